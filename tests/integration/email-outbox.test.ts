import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SendAttempt } from "../../emulators/resend/index.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The email outbox of the built server against a misbehaving Resend: outages,
 * rate limits, slow answers, restarts and crashes. Each sign-up queues an
 * email to the new reader; the tests watch its outbox row and what reached the
 * emulator under its idempotency key.
 */

const MAX_ATTEMPTS = 4;
let stack: Stack;
let addressCount = 0;

beforeAll(async () => {
  stack = await startStack({
    env: {
      EMAIL_POLL_MS: "100",
      EMAIL_RETRY_BASE_SECONDS: "1",
      EMAIL_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      EMAIL_SEND_TIMEOUT_MS: "2000",
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await waitFor(
    () => query("SELECT 1 FROM outbox WHERE status = 'pending'").length === 0,
  );
  await fetch(`${stack.resendUrl}/_emulator/reset`, { method: "POST" });
});

interface OutboxRow {
  status: string;
  attempts: number;
  last_attempt_at: number | null;
  next_attempt_at: number;
  last_error: string | null;
  resend_id: string | null;
}

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = stack.openDb();
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

async function waitFor(condition: () => boolean, what = "a condition"): Promise<void> {
  const deadline = Date.now() + 25_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

function fault(body: object | null): Promise<Response> {
  return fetch(`${stack.resendUrl}/_emulator/faults`, {
    method: body ? "POST" : "DELETE",
    headers: { "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** Signs a new reader up and answers the idempotency key of the email it queued. */
async function signUpForEmail(): Promise<{ email: string; key: string }> {
  addressCount++;
  const { email } = await stack.signUp(
    `outbox-${addressCount}-${Date.now()}@example.com`,
  );
  const [queued] = query<{ idempotency_key: string }>(
    "SELECT idempotency_key FROM outbox WHERE to_address = ? ORDER BY id LIMIT 1",
    email,
  );
  if (!queued) throw new Error(`The sign-up of ${email} queued no email`);
  return { email, key: queued.idempotency_key };
}

function row(key: string): OutboxRow {
  const [found] = query<OutboxRow>(
    `SELECT status, attempts, last_attempt_at, next_attempt_at, last_error, resend_id
       FROM outbox WHERE idempotency_key = ?`,
    key,
  );
  if (!found) throw new Error(`No outbox row ${key}`);
  return found;
}

function attemptsFor(key: string): SendAttempt[] {
  return stack.resendEmulator.attempts().filter((a) => a.idempotency_key === key);
}

function arrived(key: string) {
  return stack.resendEmulator.emails().filter((email) => email.idempotency_key === key);
}

async function delivered(key: string): Promise<OutboxRow> {
  await waitFor(() => row(key).status !== "pending", `${key} to leave the outbox`);
  return row(key);
}

describe("the email outbox over HTTP", () => {
  it("delivers a sign-up's email once through a Resend outage", async () => {
    await fault({ kind: "error", status: 503 });
    const { key } = await signUpForEmail();

    await waitFor(
      () => attemptsFor(key).filter((a) => a.status === 503).length >= 2,
      "two refused attempts",
    );
    await waitFor(() => row(key).last_error !== null, "the failure to be recorded");
    expect(row(key)).toMatchObject({ status: "pending" });
    expect(row(key).last_error).toContain("(503)");
    await fault(null);

    const sent = await delivered(key);
    expect(sent).toMatchObject({ status: "sent", last_error: null });
    expect(arrived(key)).toHaveLength(1);
    expect(arrived(key)[0]?.id).toBe(sent.resend_id);
    expect(attemptsFor(key).filter((a) => a.status === 200)).toHaveLength(1);
    expect(sent.attempts).toBe(attemptsFor(key).length);
  });

  it("waits at least as long as a 429's Retry-After before the next attempt", async () => {
    await fault({ kind: "rate_limit", retry_after: 3, count: 1 });
    const { key } = await signUpForEmail();

    await waitFor(() => row(key).last_error !== null, "the rate limit to be recorded");
    const limited = row(key);
    expect(limited.last_error).toContain("rate_limit_exceeded (429)");
    expect(
      limited.next_attempt_at - (limited.last_attempt_at ?? 0),
    ).toBeGreaterThanOrEqual(3);

    const sent = await delivered(key);
    expect(sent).toMatchObject({ status: "sent", attempts: 2 });
    const [first, second] = attemptsFor(key);
    expect([first?.status, second?.status]).toEqual([429, 200]);
    const gap = Date.parse(second?.at ?? "") - Date.parse(first?.at ?? "");
    expect(gap).toBeGreaterThanOrEqual(3000);
  });

  it("loses nothing and sends nothing twice when the server restarts mid-outage", async () => {
    await fault({ kind: "error", status: 500 });
    const { key } = await signUpForEmail();
    await waitFor(() => attemptsFor(key).length >= 1, "a refused attempt");

    await stack.restart();
    expect(row(key)).toMatchObject({ status: "pending" });
    const before = attemptsFor(key).length;
    await waitFor(() => attemptsFor(key).length > before, "the new server to try again");
    await fault(null);

    const sent = await delivered(key);
    expect(sent.status).toBe("sent");
    expect(arrived(key)).toHaveLength(1);
    expect(arrived(key)[0]?.id).toBe(sent.resend_id);
  });

  it("sends once when the server dies between sending and recording", async () => {
    // Resend accepts the email at once but answers late: the server is killed
    // while it waits, so the email left but the outbox never heard.
    await fault({ kind: "slow", delay_ms: 8000, count: 1 });
    const { key } = await signUpForEmail();
    await waitFor(() => arrived(key).length === 1, "the email to reach Resend");

    await stack.restart({ crash: true });
    const orphan = row(key);
    expect(orphan).toMatchObject({ status: "pending", attempts: 1, resend_id: null });
    expect(orphan.next_attempt_at).toBeGreaterThan(orphan.last_attempt_at ?? 0);

    const sent = await delivered(key);
    expect(sent).toMatchObject({ status: "sent", attempts: 2 });
    expect(arrived(key)).toHaveLength(1);
    expect(sent.resend_id).toBe(arrived(key)[0]?.id);
    expect(attemptsFor(key).map((a) => a.replayed)).toEqual([false, true]);
  });

  it("retries an answer that comes too late, and the key keeps it to one email", async () => {
    await fault({ kind: "slow", delay_ms: 3000, count: 1 });
    const { key } = await signUpForEmail();

    const sent = await delivered(key);
    expect(sent).toMatchObject({ status: "sent", attempts: 2 });
    expect(arrived(key)).toHaveLength(1);
    expect(sent.resend_id).toBe(arrived(key)[0]?.id);
  });

  it("marks an email that keeps failing as failed after the last attempt", async () => {
    await fault({ kind: "error", status: 500 });
    const { email, key } = await signUpForEmail();

    const failed = await delivered(key);
    await fault(null);

    expect(failed).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(failed.last_error).toContain("internal_server_error (500)");
    expect(attemptsFor(key)).toHaveLength(MAX_ATTEMPTS);
    expect(arrived(key)).toHaveLength(0);

    const log = stack.server.output();
    const masked = `${email[0]}***@example.com`;
    expect(log).toMatch(/"area":"email".*"message":"gave up on [a-z-]+ #\d+ to /);
    expect(log).toContain(masked);
    expect(log).not.toContain(email);
  });
});
