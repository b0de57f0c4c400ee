import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRandomPort } from "get-port-please";
import { describe, expect, it } from "vitest";
import { startServer } from "../../scripts/stack.ts";
import { currentTestBuild } from "../helpers/paths.ts";

/**
 * A mistyped setting in the environment stops the built server at start, with
 * one log line that names the variable, before it answers anyone.
 */

/** The test build's server on a free port and an in-memory database, with `env` on top. */
async function startBuilt(env: Record<string, string>) {
  const build = currentTestBuild();
  const port = String(await getRandomPort("127.0.0.1"));
  return startServer(build.outputDir, {
    PORT: port,
    SITE_URL: `http://127.0.0.1:${port}`,
    DATABASE_PATH: ":memory:",
    DIST_DIR: build.distDir,
    ...env,
  });
}

async function startWith(env: Record<string, string>): Promise<string> {
  const server = await startBuilt(env).catch((error: Error) => error);
  if (!(server instanceof Error)) {
    await server.stop();
    throw new Error("the server started");
  }
  return server.message;
}

interface LogLine {
  level: string;
  area: string;
  message: string;
}

/**
 * The refusal in a failed start's output, once every line of that output has
 * been checked to be a JSON log line (no stack trace printed around them).
 */
function refusalIn(message: string): LogLine {
  expect(message).toMatch(/^The server exited with 1:\n/);
  const lines = message
    .split("\n")
    .slice(1)
    .filter((line) => line.trim() !== "");
  for (const line of lines) expect(line).toMatch(/^\{.*\}$/);
  const errors = lines
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.level === "error");
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ area: "server" });
  return errors[0] as LogLine;
}

function warningsIn(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.level === "warn")
    .map((line) => line.message);
}

describe("the server's start", () => {
  it.each([
    ["TIERWALL_TRIAL_DAYS", "two weeks"],
    ["TIERWALL_ALLOW_PROMOTION_CODES", "sometimes"],
    ["TIERWALL_PAST_DUE_GRACE_DAYS", "a week"],
    ["EDGE_COOKIE_TTL_SECONDS", "5"],
    ["STRIPE_API_BASE", "localhost:12111"],
    ["TRUST_PROXY", "yes"],
    ["TRUST_PROXY", "true"],
    ["NITRO_SHUTDOWN_TIMEOUT", "abc"],
    ["EMAIL_MAX_ATTEMPTS", "abc"],
    ["SITE_URL", "stacker.example"],
    ["PORT", "abc"],
  ])("refuses %s=%s with one JSON line naming it", async (name, value) => {
    const env: Record<string, string> = { [name]: value };
    if (name === "EDGE_COOKIE_TTL_SECONDS") env.EDGE_COOKIE_SECRET = "a".repeat(43);
    const refusal = refusalIn(await startWith(env));

    expect(refusal.message).toMatch(new RegExp(`^cannot start: ${name} `));
    expect(refusal.message).toContain(value);
  });

  it.each([
    ["FEED_TOKEN_SECRET", "s3cr3t", /too short/],
    ["STRIPE_WEBHOOK_SECRET", "whsec_current, sk_test_pasted", /entry 2 of 2/],
  ])(
    "refuses %s=%s with a line naming it but not its value",
    async (name, value, why) => {
      const refusal = refusalIn(await startWith({ [name]: value }));

      expect(refusal.message).toMatch(new RegExp(`^cannot start: ${name} `));
      expect(refusal.message).toMatch(why);
      for (const part of value.split(",")) {
        expect(refusal.message).not.toContain(part.trim());
      }
    },
  );

  it("refuses a DATABASE_PATH that holds no SQLite database, naming it", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tierwall-start-"));
    try {
      const path = join(folder, "tierwall.db");
      writeFileSync(
        path,
        "a text file, long enough to be read as a database\n".repeat(100),
      );
      const refusal = refusalIn(await startWith({ DATABASE_PATH: path }));

      expect(refusal.message).toBe(
        `cannot start: DATABASE_PATH ${path} cannot be used: file is not a database`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("TRUST_PROXY at start", () => {
  async function warningsWith(env: Record<string, string>): Promise<string[]> {
    const server = await startBuilt({ NITRO_HOST: "", ...env });
    try {
      return warningsIn(server.output());
    } finally {
      await server.stop();
    }
  }

  it("warns that the header can be forged while the port listens on every interface", async () => {
    const warnings = await warningsWith({ TRUST_PROXY: "1", HOST: "" });
    const warning = warnings.find((w) => w.startsWith("TRUST_PROXY=1 while"));

    expect(warning).toContain("anyone who reaches the port directly can forge");
    expect(warning).toContain("Bind HOST to loopback");
  });

  it("says nothing of it when HOST is loopback", async () => {
    const warnings = await warningsWith({ TRUST_PROXY: "1", HOST: "127.0.0.1" });

    expect(warnings.filter((w) => w.startsWith("TRUST_PROXY"))).toEqual([]);
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
      const warnings = warningsIn(server.output());
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
