import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SendAttempt } from "../../emulators/resend/index.ts";
import { KEY_HORIZON_SECONDS } from "../../server/email/worker.ts";
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

  it("counts a 200 without an email id as a failed attempt, and the reader gets one email", async () => {
    await fault({ kind: "missing_id", count: 2 });
    const { key } = await signUpForEmail();

    let unconfirmed: OutboxRow | undefined;
    await waitFor(() => {
      const current = row(key);
      if (current.last_error !== null) unconfirmed = current;
      return unconfirmed !== undefined;
    }, "the answer without an id to be recorded");
    expect(unconfirmed).toMatchObject({
      status: "pending",
      resend_id: null,
      last_error: "Resend answered without an email id",
    });
    expect(unconfirmed?.next_attempt_at).toBeGreaterThan(
      unconfirmed?.last_attempt_at ?? 0,
    );

    const sent = await delivered(key);
    expect(sent).toMatchObject({ status: "sent", attempts: 3, last_error: null });
    expect(arrived(key)).toHaveLength(1);
    expect(sent.resend_id).toBe(arrived(key)[0]?.id);
    expect(attemptsFor(key).map((a) => [a.fault, a.replayed])).toEqual([
      ["missing_id", false],
      ["missing_id", true],
      [null, true],
    ]);
  });

  it("gives an email up at once when a Retry-After reaches past its key's horizon", async () => {
    await fault({ kind: "rate_limit", retry_after: 86_400, count: 1 });
    const { key } = await signUpForEmail();

    const failed = await delivered(key);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, resend_id: null });
    expect(failed.last_error).toContain("rate_limit_exceeded (429)");
    expect(failed.last_error).toContain("23 hours");

    // The worker polls every 100 ms: a failed row is never tried again.
    await new Promise((done) => setTimeout(done, 1500));
    expect(attemptsFor(key)).toHaveLength(1);
    expect(arrived(key)).toHaveLength(0);
    expect(row(key).status).toBe("failed");
  });

  it("gives up when the next attempt would come after the horizon, counted from queuing", async () => {
    await fault({ kind: "error", status: 503 });
    const { key } = await signUpForEmail();
    await waitFor(() => row(key).last_error !== null, "a refused attempt");

    // As if queued long ago: 30 seconds of the horizon are left, less than
    // the minute the next 429 asks for.
    moveQueuedAt(key, Math.floor(Date.now() / 1000) - KEY_HORIZON_SECONDS + 30);
    await fault({ kind: "rate_limit", retry_after: 60, count: 1 });

    const failed = await delivered(key);
    await fault(null);
    const statuses = attemptsFor(key).map((a) => a.status);
    expect(failed).toMatchObject({ status: "failed", attempts: statuses.length });
    expect(failed.last_error).toContain("rate_limit_exceeded (429)");
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
    expect(arrived(key)).toHaveLength(0);
  });

  it("never sends an email tried before once its horizon has passed", async () => {
    await fault({ kind: "error", status: 503 });
    const { key } = await signUpForEmail();
    await waitFor(() => row(key).last_error !== null, "a refused attempt");

    // The server was down past the horizon; Resend is back when it returns.
    moveQueuedAt(key, Math.floor(Date.now() / 1000) - KEY_HORIZON_SECONDS - 60);
    await fault(null);

    const failed = await delivered(key);
    expect(failed.status).toBe("failed");
    expect(failed.last_error).toContain("23 hours");
    expect(attemptsFor(key).every((a) => a.status === 503)).toBe(true);
    expect(arrived(key)).toHaveLength(0);
  });
});

function moveQueuedAt(key: string, createdAt: number): void {
  const db = stack.openDb();
  try {
    db.prepare("UPDATE outbox SET created_at = ? WHERE idempotency_key = ?").run(
      createdAt,
      key,
    );
  } finally {
    db.close();
  }
}
