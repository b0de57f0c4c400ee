import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAddress, newClient, PASSWORD } from "../helpers/accounts.ts";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { jsonLogLines, postJsonTo } from "../helpers/http.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * Two server processes under the cluster launcher, one SQLite file: a burst of
 * sign-ups, sign-ins, Checkouts and webhook deliveries spread over both, then
 * the database, the emulators and the logs as witnesses that nothing was lost,
 * doubled or refused with a database error.
 */

const READERS = 16;
const CLICKS_PER_READER = 6;
const PAYING = 6;

let stack: Stack;
let billing: Billing;
/** Every answer of the burst: status and body, for the 5xx and SQLITE_BUSY checks. */
const answers: { what: string; status: number; body: string }[] = [];

interface LogLine {
  area: string;
  pid: number;
  message?: string;
  route?: string;
  status?: number;
}

beforeAll(async () => {
  stack = await startStack({
    workers: 2,
    env: { TRUST_PROXY: "1", EMAIL_POLL_MS: "100" },
  });
  billing = billingFor(stack);
  await waitFor(() => listeningWorkers().length === 2, "both workers to listen");
});

afterAll(async () => {
  await stack?.stop();
});

function logLines(): LogLine[] {
  return jsonLogLines<LogLine>(stack.server.output());
}

function listeningWorkers(): string[] {
  return logLines()
    .map((line) => /^worker (\d+) listening$/.exec(line.message ?? "")?.[1])
    .filter((pid): pid is string => pid !== undefined);
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** A fetch whose answer is kept for the checks at the end. */
async function record(what: string, request: Promise<Response>): Promise<Response> {
  const response = await request;
  const body = await response.clone().text();
  answers.push({ what, status: response.status, body });
  return response;
}

function postJson(path: string, body: object, headers: Record<string, string> = {}) {
  return postJsonTo(stack.baseUrl, path, body, { headers });
}

function cookieOf(response: Response): string {
  return (response.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
}

type Account = Reader;

async function signUpAll(): Promise<Account[]> {
  const emails = Array.from({ length: READERS }, () => newAddress("cluster"));
  return Promise.all(
    emails.map(async (email) => {
      const client = { "x-forwarded-for": newClient() };
      const response = await record(
        "sign-up",
        postJson("/api/auth/signup", { email, password: PASSWORD }, client),
      );
      expect(response.status).toBe(201);
      return { email, password: PASSWORD, cookie: cookieOf(response) };
    }),
  );
}

async function signInAll(accounts: Account[]): Promise<Account[]> {
  return Promise.all(
    accounts.map(async ({ email }) => {
      const client = { "x-forwarded-for": newClient() };
      const response = await record(
        "sign-in",
        postJson("/api/auth/login", { email, password: PASSWORD }, client),
      );
      expect(response.status).toBe(200);
      return { email, password: PASSWORD, cookie: cookieOf(response) };
    }),
  );
}

/** Pays the reader's one Checkout still open: the other clicks expired theirs. */
async function payOpenCheckout(account: Account): Promise<Response> {
  const open = await stack.stripe.checkout.sessions.list({
    customer: billing.customerOf(account),
    status: "open",
  });
  expect(open.data).toHaveLength(1);
  return payOnCheckoutPage(open.data[0]?.url ?? "");
}

/** Each reader clicks "Subscribe" several times at once. */
async function checkoutAll(accounts: Account[], priceId: string): Promise<string[]> {
  const clicks = accounts.flatMap((account) =>
    Array.from({ length: CLICKS_PER_READER }, () =>
      record(
        "checkout",
        stack.post("/api/billing/checkout", { price: priceId }, account.cookie),
      ),
    ),
  );
  const responses = await Promise.all(clicks);
  for (const response of responses) expect(response.status).toBe(303);
  return responses.map((response) => response.headers.get("location") ?? "");
}

/** Each signed event twice at once, as Stripe's retries can deliver it. */
async function deliverWebhooks(customerIds: string[]): Promise<string[]> {
  const eventIds = customerIds.map((_, index) => `evt_cluster_${Date.now()}_${index}`);
  const deliveries = customerIds.flatMap((customer, index) => {
    const payload = JSON.stringify({
      id: eventIds[index],
      object: "event",
      type: "customer.subscription.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `sub_cluster_${index}`, object: "subscription", customer } },
    });
    const signature = billing.sign(payload);
    return [1, 2].map(() => record("webhook", billing.postWebhook(payload, signature)));
  });
  for (const response of await Promise.all(deliveries)) expect(response.status).toBe(200);
  return eventIds;
}

describe("two server processes sharing one SQLite database", () => {
  let accounts: Account[] = [];
  let eventIds: string[] = [];

  beforeAll(async () => {
    const priceId = await billing.priceOf("core");
    accounts = await signUpAll();
    accounts = await signInAll(accounts);

    await checkoutAll(accounts, priceId);
    const paid = await Promise.all(accounts.slice(0, PAYING).map(payOpenCheckout));
    for (const response of paid) expect(response.status).toBe(303);

    const customers = accounts.map((account) => billing.customerOf(account));
    eventIds = await deliverWebhooks(customers);
    await stack.flushWebhooks();
  }, 120_000);

  it("answered through both workers", () => {
    const primary = stack.server.child.pid;
    const pids = new Set(
      logLines()
        .filter((line) => line.area === "http" && line.route !== undefined)
        .map((line) => line.pid),
    );
    expect(pids.size).toBe(2);
    expect(pids.has(primary ?? -1)).toBe(false);
  });

  it("answered no request with a 5xx or a database error", () => {
    expect(answers.length).toBe(READERS * (2 + CLICKS_PER_READER + 2));
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    for (const answer of answers) expect(answer.body).not.toMatch(/SQLITE_|locked/);
    expect(stack.server.output()).not.toMatch(/SQLITE_BUSY|database is locked/);
    const served = logLines().filter((line) => line.route !== undefined);
    expect(served.filter((line) => (line.status ?? 0) >= 500)).toEqual([]);
  });

  it("stored every sign-up and every session", () => {
    const emails = accounts.map((account) => account.email);
    const users = billing.query<{ id: string }>(
      `SELECT id FROM user WHERE email IN (SELECT value FROM json_each(?))`,
      JSON.stringify(emails),
    );
    expect(users).toHaveLength(READERS);
    const sessions = billing.query<{ n: number }>(
      `SELECT count(*) AS n FROM session
        WHERE user_id IN (SELECT id FROM user WHERE email IN (SELECT value FROM json_each(?)))`,
      JSON.stringify(emails),
    );
    expect(sessions[0]?.n).toBe(READERS * 2);
  });

  it("made one Stripe customer per reader, with one open Checkout at most", async () => {
    for (const account of accounts) {
      const userId = billing.userOf(account).id;
      const customers = (
        await stack.stripe.customers.list({ email: account.email, limit: 100 })
      ).data.filter((customer) => customer.metadata.user_id === userId);
      expect(customers.map((customer) => customer.id)).toEqual([
        billing.customerOf(account),
      ]);

      const open = await stack.stripe.checkout.sessions.list({
        customer: billing.customerOf(account),
        status: "open",
      });
      expect(open.data.length).toBeLessThanOrEqual(1);
    }
  });

  it("recorded each webhook event once and stored the paid subscriptions", () => {
    const recorded = billing
      .recordedEvents()
      .filter((event) => eventIds.includes(event.id));
    expect(recorded).toHaveLength(eventIds.length);

    for (const account of accounts.slice(0, PAYING)) {
      const rows = billing.storedSubscriptions(account);
      expect(rows.map((row) => [row.tier, row.status])).toEqual([["core", "active"]]);
    }
  });

  it("sent each queued email exactly once", async () => {
    const pending = () =>
      billing.query<{ n: number }>(
        "SELECT count(*) AS n FROM outbox WHERE status = 'pending'",
      )[0]?.n ?? 0;
    await waitFor(() => pending() === 0, "the outbox to empty");

    const rows = billing.query<{
      idempotency_key: string;
      status: string;
      attempts: number;
    }>("SELECT idempotency_key, status, attempts FROM outbox");
    expect(rows.length).toBeGreaterThanOrEqual(READERS);
    for (const row of rows) {
      expect(row).toMatchObject({ status: "sent", attempts: 1 });
      const attempts = stack.resendEmulator
        .attempts()
        .filter((attempt) => attempt.idempotency_key === row.idempotency_key);
      expect(attempts).toHaveLength(1);
    }
  });
});
