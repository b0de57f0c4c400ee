import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";

/**
 * `npm run edge:nginx -- … --out <file>`, run through npm as the README has
 * operators run it, and the file it writes checked by nginx itself.
 */

const NGINX = "/usr/sbin/nginx";
const SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

let folder: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "tierwall-edge-command-"));
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const EXAMPLE = "deploy/nginx/tierwall-edge.example.conf";

/**
 * The command in the example's opening comment: its environment assignments
 * and the arguments after `--`.
 */
function documentedCommand(example: string): {
  env: Record<string, string>;
  args: string[];
} {
  const comment = example.slice(0, example.indexOf("\n\n"));
  const start = comment.indexOf("EDGE_COOKIE_SECRET=");
  const words = comment.slice(start).replace(/\\\n#/g, " ").split(/\s+/).filter(Boolean);
  const command = words.slice(0, words.indexOf("#"));
  const dashes = command.indexOf("--");
  const env: Record<string, string> = {};
  for (const word of command.slice(0, command.indexOf("npm"))) {
    const [name = "", value = ""] = word.split("=");
    env[name] = value;
  }
  return { env, args: command.slice(dashes + 1) };
}

function edgeNginx(
  out: string,
  env: Record<string, string> = {},
  options: { dist?: string; args?: string[] } = {},
) {
  const dist = options.dist ?? join(folder, "dist");
  const args = ["run", "edge:nginx", "--", "--dist", dist, ...(options.args ?? [])];
  args.push("--upstream", "http://127.0.0.1:3000", "--listen", "127.0.0.1:8080");
  return run("npm", [...args, "--out", out], {
    EDGE_COOKIE_SECRET: SECRET,
    SITE_URL: "http://localhost:8080",
    ...env,
  });
}

describe("npm run edge:nginx --out", () => {
  it("writes a configuration nginx accepts, readable by its owner only", async () => {
    const out = join(folder, "nginx.conf");
    const result = await edgeNginx(out);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain("mode 600");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const config = readFileSync(out, "utf8");
    expect(config).toMatch(/^# Tierwall at the edge/);
    expect(config).toContain(SECRET);
    expect(result.stdout).not.toContain(SECRET);

    const check = await run(NGINX, ["-t", "-c", out]);
    expect(check.stderr).toContain("syntax is ok");
    expect(check.code).toBe(0);
  });

  it("narrows an existing file to its owner before writing the secret into it", async () => {
    const out = join(folder, "existing.conf");
    writeFileSync(out, "old", { mode: 0o644 });
    expect((await edgeNginx(out)).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("writes exactly the example in deploy/nginx/ when run as its header says", async () => {
    const example = readFileSync(join(repoRoot, EXAMPLE), "utf8");
    const { env, args } = documentedCommand(example);
    const secret = /:\$tierwall_tier:([^"]+)";/.exec(example)?.[1] ?? "";
    const out = join(folder, "example.conf");
    const outAt = args.indexOf("--out") + 1;
    expect(outAt).toBeGreaterThan(0);
    args[outAt] = out;

    const result = await run("npm", ["run", "edge:nginx", "--", ...args], {
      ...env,
      EDGE_COOKIE_SECRET: secret,
    });
    expect(result.code).toBe(0);
    const preamble = example.slice(0, example.indexOf("\n\n") + 2);
    expect(example).toBe(`${preamble}${readFileSync(out, "utf8")}`);
  });

  it("warns, naming the path, when --dist is not on this machine, and still writes", async () => {
    const out = join(folder, "elsewhere.conf");
    const missing = join(folder, "not-here", "dist");
    const result = await edgeNginx(out, {}, { dist: missing });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`warning: ${missing} does not exist here`);
    expect(readFileSync(out, "utf8")).toContain(`root "${missing}/public";`);

    const present = join(folder, "present", "dist");
    mkdirSync(join(present, "public"), { recursive: true });
    const quiet = await edgeNginx(join(folder, "present.conf"), {}, { dist: present });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("warning:");
  });

  it("takes the access log's path, or off", async () => {
    const out = join(folder, "log.conf");
    const log = join(folder, "edge-access.log");
    expect((await edgeNginx(out, {}, { args: ["--access-log", log] })).code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain(`access_log "${log}" tierwall;`);

    expect((await edgeNginx(out, {}, { args: ["--access-log", "off"] })).code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("access_log off;");
  });

  it("refuses --redirect-port without --cert and --key", async () => {
    const out = join(folder, "redirect.conf");
    const result = await edgeNginx(out, {}, { args: ["--redirect-port", "8081"] });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: a redirect to https needs --cert and --key");
    expect(() => statSync(out)).toThrow();
  });

  it("refuses to run without the secret, and writes nothing", async () => {
    const out = join(folder, "none.conf");
    const result = await edgeNginx(out, { EDGE_COOKIE_SECRET: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("set EDGE_COOKIE_SECRET");
    expect(() => statSync(out)).toThrow();
  });
});
