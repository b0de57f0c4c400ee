import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountsFor } from "../helpers/accounts.ts";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The server's own output, read as an operator's log collector reads it: a
 * sign-in, a private feed, a password reset, webhooks (one applied, one that
 * fails while Stripe is down), a 404, then every line parsed as JSON and
 * searched for the secrets those requests carried.
 */

let stack: Stack;
let billing: Billing;
let accounts: ReturnType<typeof accountsFor>;
/** Everything secret the requests below sent or received. */
const secrets: string[] = [];

interface LogLine {
  time: string;
  level: string;
  area: string;
  pid: number;
  message?: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  error?: { name?: string; message: string; stack?: string };
}

beforeAll(async () => {
  stack = await startStack();
  billing = billingFor(stack);
  accounts = accountsFor(stack);
});

afterAll(async () => {
  await stack?.stop();
});

function logLines(): LogLine[] {
  return stack.server
    .output()
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LogLine);
}

function requestLines(): LogLine[] {
  return logLines().filter((line) => line.route !== undefined);
}

async function waitForLine(match: (line: LogLine) => boolean): Promise<LogLine> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = requestLines().find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error("The request was not logged");
    await new Promise((done) => setTimeout(done, 50));
  }
}

async function signInWithPassword(): Promise<void> {
  const reader = await accounts.signUp();
  const response = await accounts.postJson("/api/auth/login", {
    email: reader.email,
    password: reader.password,
  });
  expect(response.status).toBe(200);
  const cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
  secrets.push(reader.email, reader.password, cookie.split("=")[1] ?? "");
  secrets.push(reader.cookie.split("=")[1] ?? "");
}

async function readPrivateFeed(): Promise<void> {
  const reader = await stack.signUp();
  stack.storeSubscription(reader.email, "core");
  const address = await fetch(`${stack.baseUrl}/api/feed`, {
    headers: { accept: "application/json", cookie: reader.cookie },
  });
  const { url } = (await address.json()) as { url: string };
  const feed = await fetch(url);
  expect(feed.status).toBe(200);
  const token = /\/feeds\/([^/]+)\.xml$/.exec(new URL(url).pathname)?.[1] ?? "";
  expect(token.length).toBeGreaterThan(20);
  secrets.push(reader.email, token, reader.cookie.split("=")[1] ?? "");

  // Misspelled addresses carry the token too, and must not leave it in the log.
  for (const path of [
    `//feeds/${token}.xml`,
    `/FEEDS/${token}`,
    `/%66eeds/${token}.xml`,
  ]) {
    await fetch(`${stack.baseUrl}${path}`);
  }
}

async function resetPassword(): Promise<void> {
  const reader = await accounts.signUp();
  await accounts.postJson("/api/auth/password-reset", { email: reader.email });
  const link = await accounts.emailedLink(reader.email, "password-reset");
  const newPassword = "a brand new passphrase";
  const confirmed = await accounts.followLink(link, {
    fields: { password: newPassword },
  });
  expect(confirmed.status).toBe(303);
  secrets.push(reader.email, link.token, newPassword);
}

/** A signed event for the reader's customer; Stripe's API down makes it fail. */
async function deliverWebhooks(): Promise<void> {
  const reader = await stack.signUp();
  const priceId = await billing.priceOf("spark");
  const checkout = await stack.post(
    "/api/billing/checkout",
    { price: priceId },
    reader.cookie,
  );
  expect(checkout.status).toBe(303);
  const customer = billing.customerOf(reader);

  const event = (id: string) =>
    JSON.stringify({
      id,
      object: "event",
      type: "customer.subscription.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "sub_logged", object: "subscription", customer } },
    });
  const applied = event(`evt_logs_ok_${Date.now()}`);
  const appliedSignature = billing.sign(applied);
  expect((await billing.postWebhook(applied, appliedSignature)).status).toBe(200);

  await billing.emulator.outage(true);
  const failing = event(`evt_logs_down_${Date.now()}`);
  const failingSignature = billing.sign(failing);
  const answer = await billing.postWebhook(failing, failingSignature);
  await billing.emulator.outage(false);
  expect(answer.status).toBeGreaterThanOrEqual(500);

  secrets.push(reader.email, reader.cookie.split("=")[1] ?? "");
  for (const signature of [appliedSignature, failingSignature]) {
    secrets.push(/v1=([0-9a-f]+)/.exec(signature)?.[1] ?? "");
  }
}

describe("structured request logs", () => {
  beforeAll(async () => {
    await signInWithPassword();
    await readPrivateFeed();
    await resetPassword();
    await deliverWebhooks();
    expect((await fetch(`${stack.baseUrl}/no-such-page/?utm=x`)).status).toBe(404);
    await waitForLine((line) => line.route === "/no-such-page/?utm=");
  }, 60_000);

  it("writes every line of output as one JSON object with time, level, area and pid", () => {
    const lines = logLines();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(["info", "warn", "error"]).toContain(line.level);
      expect(line.area).toMatch(/^[a-z]+$/);
      expect(line.pid).toBe(stack.server.child.pid);
    }
  });

  it("logs each request with method, route, status and duration", () => {
    const lines = requestLines();
    const find = (method: string, route: string) =>
      lines.filter((line) => line.method === method && line.route === route);

    expect(find("POST", "/api/auth/login")[0]).toMatchObject({
      status: 200,
      area: "http",
    });
    expect(find("GET", "/feeds/[token].xml")[0]).toMatchObject({ status: 200 });
    expect(find("POST", "/api/auth/password-reset/confirm")[0]).toMatchObject({
      status: 303,
    });
    const webhooks = find("POST", "/api/stripe/webhook").map((line) => line.status);
    expect(webhooks).toContain(200);
    expect(webhooks.some((status) => (status ?? 0) >= 500)).toBe(true);
    expect(find("GET", "/no-such-page/?utm=")[0]).toMatchObject({ status: 404 });
    for (const line of lines) expect(line.ms).toBeGreaterThanOrEqual(0);
  });

  it("logs the failure behind a 5xx with its stack", () => {
    const failures = logLines().filter(
      (line) => line.level === "error" && line.area === "billing",
    );
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]?.error?.stack).toMatch(/\n\s+at /);
  });

  it("never logs a password, cookie, token, signature or email address", () => {
    const output = stack.server.output();
    expect(secrets.filter((secret) => secret.length < 8)).toEqual([]);
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/[a-z0-9.-]+@example\.com/i);
    expect(output).not.toMatch(/auth_session|stripe-signature|cookie/i);
  });

  it("writes no request lines with LOG_REQUESTS=0, and still logs events", async () => {
    await stack.restart({ env: { LOG_REQUESTS: "0" } });
    expect((await fetch(`${stack.baseUrl}/no-such-page/`)).status).toBe(404);
    await accounts.signUp();
    await new Promise((done) => setTimeout(done, 300));

    expect(requestLines()).toEqual([]);
    expect(logLines().some((line) => line.area === "auth")).toBe(true);
  });
});
