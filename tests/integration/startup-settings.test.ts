import { getRandomPort } from "get-port-please";
import { describe, expect, it } from "vitest";
import { startServer } from "../../scripts/stack.ts";
import { currentTestBuild } from "../helpers/paths.ts";

/**
 * A mistyped setting in the environment stops the built server at start, with
 * one log line that names the variable, before it answers anyone.
 */

async function startWith(env: Record<string, string>): Promise<string> {
  const build = currentTestBuild();
  const port = String(await getRandomPort("127.0.0.1"));
  const server = await startServer(build.outputDir, {
    PORT: port,
    SITE_URL: `http://127.0.0.1:${port}`,
    DATABASE_PATH: ":memory:",
    DIST_DIR: build.distDir,
    ...env,
  }).catch((error: Error) => error);
  if (!(server instanceof Error)) {
    await server.stop();
    throw new Error("the server started");
  }
  return server.message;
}

describe("the server's start", () => {
  it.each([
    ["TIERWALL_TRIAL_DAYS", "two weeks"],
    ["TIERWALL_ALLOW_PROMOTION_CODES", "sometimes"],
    ["TIERWALL_PAST_DUE_GRACE_DAYS", "a week"],
    ["EDGE_COOKIE_TTL_SECONDS", "5"],
    ["STRIPE_API_BASE", "localhost:12111"],
  ])("refuses %s=%s with a line naming it", async (name, value) => {
    const env: Record<string, string> = { [name]: value };
    if (name === "EDGE_COOKIE_TTL_SECONDS") env.EDGE_COOKIE_SECRET = "a".repeat(43);
    const message = await startWith(env);

    expect(message).toMatch(/^The server exited with 1:/);
    const lines = message.split("\n").filter((line) => line.startsWith("{"));
    const refusal = lines
      .map((line) => JSON.parse(line))
      .find((l) => l.level === "error");
    expect(refusal).toMatchObject({ area: "server" });
    expect(refusal.message).toMatch(new RegExp(`^cannot start: ${name} `));
    expect(refusal.message).toContain(value);
  });
});

describe("a server started without Stripe or Resend", () => {
  it("starts, and says at once what will not work", async () => {
    const build = currentTestBuild();
    const port = String(await getRandomPort("127.0.0.1"));
    const env: Record<string, string> = {
      PORT: port,
      SITE_URL: `http://127.0.0.1:${port}`,
      DATABASE_PATH: ":memory:",
      DIST_DIR: build.distDir,
    };
    for (const name of ["STRIPE_SECRET_KEY", "STRIPE_API_BASE", "RESEND_API_KEY"]) {
      env[name] = "";
    }
    env.RESEND_BASE_URL = "";
    const server = await startServer(build.outputDir, env);
    try {
      const health = await fetch(`${server.url}/api/health`);
      expect(health.status).toBe(200);
      const warnings = server
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: string; message: string })
        .filter((line) => line.level === "warn")
        .map((line) => line.message);
      expect(warnings.some((w) => w.startsWith("Stripe is not configured"))).toBe(true);
      expect(warnings.some((w) => w.startsWith("RESEND_API_KEY is not set"))).toBe(true);

      const pricing = await fetch(`${server.url}/api/pricing`);
      expect(pricing.status).toBe(503);
      expect(pricing.headers.get("retry-after")).toBe("30");
    } finally {
      await server.stop();
    }
  });
});
