import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRandomPort } from "get-port-please";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { newAddress, PASSWORD } from "../helpers/accounts.ts";
import { currentTestBuild } from "../helpers/paths.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * SIGTERM, as systemd and container runtimes send it: the server stops taking
 * connections at once, answers the requests under way, delivers the email
 * those requests queued, and exits 0; under the cluster launcher, the same
 * for every worker.
 */

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

interface Answer {
  status: number;
  body: string;
}

/**
 * A sign-up from a slow client: the headers and a first part of the body go
 * out now, the rest when `finish` is called. Until then the request is under
 * way on the server, waiting for its body.
 */
function slowSignUp(baseUrl: string, email: string) {
  const body = JSON.stringify({ email, password: PASSWORD });
  const req = request(`${baseUrl}/api/auth/signup`, {
    method: "POST",
    headers: {
      origin: baseUrl,
      accept: "application/json",
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
  });
  req.write(body.slice(0, 12));
  return { finish: () => req.end(body.slice(12)), answer };
}

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = stack?.openDb();
  if (!db) throw new Error("no stack");
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

interface OutboxRow {
  idempotency_key: string;
  status: string;
  attempts: number;
}

function outboxFor(email: string): OutboxRow[] {
  return query<OutboxRow>(
    "SELECT idempotency_key, status, attempts FROM outbox WHERE to_address = ?",
    email,
  );
}

function sendAttempts(key: string): number {
  return (stack?.resendEmulator.attempts() ?? []).filter(
    (attempt) => attempt.idempotency_key === key,
  ).length;
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Makes Resend answer after `delayMs`, signs a reader up and waits until the
 * welcome email's delivery is under way.
 */
async function signUpWhileResendIsSlow(
  stack: Stack,
  delayMs: number,
  label: string,
): Promise<{ email: string; key: () => string }> {
  await fetch(`${stack.resendUrl}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "slow", delay_ms: delayMs }),
  });
  const email = newAddress(label);
  await stack.signUp(email);
  const key = () => outboxFor(email)[0]?.idempotency_key ?? "";
  while (sendAttempts(key()) === 0) await pause(50);
  return { email, key };
}

async function refusesConnections(baseUrl: string): Promise<boolean> {
  try {
    await fetch(`${baseUrl}/api/health`);
    return false;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code === "ECONNREFUSED";
  }
}

describe("SIGTERM to the server", () => {
  it("answers the request under way, refuses new connections, sends its email and exits 0", async () => {
    // The worker would not look at the outbox for a minute: only the
    // shutdown can deliver the email the slow sign-up queues.
    stack = await startStack({ env: { EMAIL_POLL_MS: "60000" } });
    const email = newAddress("shutdown");
    const slow = slowSignUp(stack.baseUrl, email);
    await pause(300);

    const exited = once(stack.server.child, "exit");
    stack.server.child.kill("SIGTERM");
    await pause(200);
    expect(await refusesConnections(stack.baseUrl)).toBe(true);

    slow.finish();
    const answer = await slow.answer;
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, user: { email } });

    expect(await exited).toEqual([0, null]);
    const [row] = outboxFor(email);
    expect(row).toMatchObject({ status: "sent", attempts: 1 });
    expect(sendAttempts(row?.idempotency_key ?? "")).toBe(1);

    // Started again, the server finds nothing left to send.
    await stack.restart({ env: { EMAIL_POLL_MS: "100" } });
    await pause(1000);
    expect(outboxFor(email)).toEqual([row]);
    expect(sendAttempts(row?.idempotency_key ?? "")).toBe(1);
  });

  it("finishes a slow delivery under way before it exits, and never sends it twice", async () => {
    stack = await startStack({ env: { EMAIL_POLL_MS: "100" } });
    const { email, key } = await signUpWhileResendIsSlow(stack, 1500, "slow-mail");

    const exited = once(stack.server.child, "exit");
    stack.server.child.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);
    expect(outboxFor(email)[0]).toMatchObject({ status: "sent", attempts: 1 });

    await stack.restart();
    await pause(1000);
    expect(outboxFor(email)[0]).toMatchObject({ status: "sent", attempts: 1 });
    expect(sendAttempts(key())).toBe(1);
  });
});

describe("a shutdown that runs past NITRO_SHUTDOWN_TIMEOUT", () => {
  it("exits 0 and says so in a JSON line, like every other line the server wrote", async () => {
    stack = await startStack({
      env: { EMAIL_POLL_MS: "100", NITRO_SHUTDOWN_TIMEOUT: "500" },
    });
    await signUpWhileResendIsSlow(stack, 5000, "timeout");

    // The delivery under way outlasts the timeout: the server gives up on it.
    const exited = once(stack.server.child, "exit");
    stack.server.child.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);

    const lines = stack.server
      .output()
      .split("\n")
      .filter((line) => line !== "");
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a line of the server's output is not JSON: ${line}`);
      }
    });
    expect(parsed.some((line) => line.route === "/api/auth/signup")).toBe(true);
    expect(parsed).toContainEqual(
      expect.objectContaining({
        level: "warn",
        area: "server",
        message: "shutdown still running after 500 ms; exiting",
      }),
    );
  });
});

describe("SIGTERM to the cluster launcher", () => {
  it("shuts every worker down gracefully and exits 0", async () => {
    stack = await startStack({ workers: 2, env: { EMAIL_POLL_MS: "60000" } });
    const listening = () => stack?.server.output().match(/worker \d+ listening/g) ?? [];
    while (listening().length < 2) await pause(50);

    const email = newAddress("cluster-shutdown");
    const slow = slowSignUp(stack.baseUrl, email);
    await pause(300);

    const exited = once(stack.server.child, "exit");
    stack.server.child.kill("SIGTERM");
    await pause(300);
    slow.finish();
    expect((await slow.answer).status).toBe(201);

    expect(await exited).toEqual([0, null]);
    const exits = stack.server.output().match(/worker \d+ exited \(code 0\)/g) ?? [];
    expect(exits).toHaveLength(2);
    expect(await refusesConnections(stack.baseUrl)).toBe(true);
    expect(outboxFor(email)[0]).toMatchObject({ status: "sent", attempts: 1 });
  });
});

/** Whether a process with this pid is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("SIGTERM to npm run start:cluster", () => {
  it("reaches the launcher through npm, which stops every worker", async () => {
    const build = currentTestBuild();
    const folder = mkdtempSync(join(tmpdir(), "tierwall-npm-cluster-"));
    const port = String(await getRandomPort("127.0.0.1"));
    const npm = spawn("npm", ["run", "start:cluster"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: port,
        SITE_URL: `http://127.0.0.1:${port}`,
        DATABASE_PATH: join(folder, "tierwall.db"),
        TIERWALL_OUTPUT_DIR: build.outputDir,
        DIST_DIR: build.distDir,
        TIERWALL_WORKERS: "2",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let started = new Set<number>();
    npm.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const pids = () => [...output.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
      while ((output.match(/worker \d+ listening/g) ?? []).length < 2) await pause(50);
      started = new Set(pids());

      const exited = once(npm, "exit");
      npm.kill("SIGTERM");
      await exited;
      for (let waited = 0; [...started].some(alive) && waited < 5000; waited += 50) {
        await pause(50);
      }

      expect(output).toMatch(/"message":"stopped"/);
      expect(output.match(/worker \d+ exited \(code 0\)/g)).toHaveLength(2);
      expect([...started].filter(alive)).toEqual([]);
      expect(await refusesConnections(`http://127.0.0.1:${port}`)).toBe(true);
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
      for (const pid of [...started].filter(alive)) process.kill(pid, "SIGKILL");
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
