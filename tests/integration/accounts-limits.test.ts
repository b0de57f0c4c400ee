import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAddress, newClient, PASSWORD } from "../helpers/accounts.ts";
import { jsonLogLines, postJsonTo } from "../helpers/http.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The rate limits where they are easiest to get wrong: two server processes
 * counting into one SQLite file at once, and a server that is not behind a
 * proxy, where X-Forwarded-For is whatever the client chose to write.
 */

interface LogLine {
  pid?: number;
  route?: string;
  message?: string;
}

function postJson(
  stack: Stack,
  path: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postJsonTo(stack.baseUrl, path, body, { headers });
}

function logLines(stack: Stack): LogLine[] {
  return jsonLogLines<LogLine>(stack.server.output());
}

/** The pids of the server processes that answered requests to `route`. */
function pidsAnswering(stack: Stack, route: string): Set<number> {
  const pids = logLines(stack)
    .filter((line) => line.route === route && line.pid !== undefined)
    .map((line) => line.pid as number);
  return new Set(pids);
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function countStatuses(responses: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe("two server processes on one database", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ workers: 2, env: { TRUST_PROXY: "1" } });
    await waitFor(
      () =>
        logLines(stack).filter((l) => /^worker \d+ listening$/.test(l.message ?? ""))
          .length >= 2,
      "both workers to listen",
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("let exactly ten of a burst of wrong passwords at one address through", async () => {
    const email = newAddress("burst");
    const signedUp = await postJson(
      stack,
      "/api/auth/signup",
      { email, password: PASSWORD },
      { "x-forwarded-for": newClient() },
    );
    expect(signedUp.status).toBe(201);

    // Every guess from a client of its own: only the address limit applies.
    const guesses = Array.from({ length: 24 }, (_, n) =>
      postJson(
        stack,
        "/api/auth/login",
        { email, password: `wrong guess number ${n}` },
        { "x-forwarded-for": newClient() },
      ),
    );
    const answers = await Promise.all(guesses);

    expect(countStatuses(answers)).toEqual({ 401: 10, 429: 14 });
    expect(pidsAnswering(stack, "/api/auth/login").size).toBe(2);
  });

  it("let exactly thirty of a burst of sign-ups from one client through", async () => {
    const client = newClient();
    const signUps = Array.from({ length: 40 }, () =>
      postJson(
        stack,
        "/api/auth/signup",
        { email: newAddress("burst-signup"), password: PASSWORD },
        { "x-forwarded-for": client },
      ),
    );
    const answers = await Promise.all(signUps);

    expect(countStatuses(answers)).toEqual({ 201: 30, 429: 10 });
    expect(pidsAnswering(stack, "/api/auth/signup").size).toBe(2);
  });
});

describe("a server that trusts no proxy", () => {
  let stack: Stack;

  beforeAll(async () => {
    // No TRUST_PROXY: every request counts against the socket's address.
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("counts requests that claim different X-Forwarded-For addresses in one bucket", async () => {
    const ask = (client: string): Promise<Response> =>
      postJson(
        stack,
        "/api/auth/signin-link",
        { email: newAddress("no-proxy") },
        { "x-forwarded-for": client },
      );

    // Twenty is the per-client limit on sign-in links: ten from each claimed client.
    for (let count = 0; count < 10; count++) {
      expect((await ask("198.51.100.1")).status).toBe(202);
      expect((await ask("198.51.100.2")).status).toBe(202);
    }

    for (const client of ["198.51.100.1", "198.51.100.2", "203.0.113.9"]) {
      const refused = await ask(client);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("counts wrong passwords that claim different clients as one client", async () => {
    const ask = (client: string): Promise<Response> =>
      postJson(
        stack,
        "/api/auth/login",
        { email: newAddress("no-proxy-login"), password: "not anyone's password" },
        { "x-forwarded-for": client },
      );

    // Fifty is the per-client limit on wrong passwords, each at another address.
    const claimed = Array.from({ length: 50 }, (_, n) => `192.0.2.${n + 1}`);
    for (const client of claimed) expect((await ask(client)).status).toBe(401);

    const refused = await ask("192.0.2.200");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
