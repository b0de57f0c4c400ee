import { Resend } from "resend";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type ResendEmulator,
  startResendEmulator,
} from "../../emulators/resend/index.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";
import { claimEmail, listDueEmails, queueEmail } from "../../server/email/outbox.ts";
import {
  type DeliveryPolicy,
  defaultDeliveryPolicy,
  deliverDueEmails,
  type EmailSender,
  type EmailWorkerOptions,
  leaseSeconds,
  nextDelaySeconds,
  parseRetryAfter,
  readDeliveryPolicy,
  retryDelaySeconds,
} from "../../server/email/worker.ts";

/**
 * The worker's delivery rules: what counts as sent, when a failed send is
 * tried again, when it is given up, and what a crash mid-send leaves behind.
 */

type Send = EmailSender["emails"]["send"];
type Answer = Awaited<ReturnType<Send>>;
type Payload = Parameters<Send>[0];

const site = { name: "The Stacker", url: "https://stacker.example" };
const from = "The Stacker <letters@stacker.example>";

function scripted(answers: ((signal?: AbortSignal) => Promise<Answer> | Answer)[]) {
  const calls: { payload: Payload; key?: string }[] = [];
  const sender: EmailSender = {
    emails: {
      send: (async (
        payload: Payload,
        options?: { idempotencyKey?: string; signal?: AbortSignal },
      ) => {
        calls.push({ payload, key: options?.idempotencyKey });
        const next = answers.shift();
        if (!next) throw new Error("no answer prepared");
        return next(options?.signal);
      }) as Send,
    },
  };
  return { sender, calls };
}

const accepted = (id: string) => (): Answer =>
  ({ data: { id }, error: null, headers: {} }) as Answer;

function refused(
  statusCode: number,
  name: string,
  headers: Record<string, string> = {},
): () => Answer {
  return () =>
    ({ data: null, error: { statusCode, name, message: "refused" }, headers }) as Answer;
}

function queueWelcome(db: Db, key = "welcome:u1", at = 1000): void {
  queueEmail(
    db,
    {
      to: "mara@example.com",
      template: "welcome",
      data: { email: "mara@example.com" },
      idempotencyKey: key,
    },
    at,
  );
}

function outboxRow(db: Db) {
  return db
    .prepare(
      `SELECT status, attempts, next_attempt_at, last_attempt_at, last_error, resend_id
         FROM outbox`,
    )
    .get() as {
    status: string;
    attempts: number;
    next_attempt_at: number;
    last_attempt_at: number | null;
    last_error: string | null;
    resend_id: string | null;
  };
}

function workerOptions(
  db: Db,
  sender: EmailSender,
  policy: Partial<DeliveryPolicy> = {},
): EmailWorkerOptions {
  return {
    db,
    sender,
    from,
    site,
    policy: { ...defaultDeliveryPolicy, ...policy },
    random: () => 0.999_999,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("retry timing", () => {
  it("waits between half and all of the doubled backoff", () => {
    const policy = { ...defaultDeliveryPolicy, baseDelaySeconds: 10 };
    const low = (n: number) => retryDelaySeconds(n, policy, () => 0);
    const high = (n: number) => retryDelaySeconds(n, policy, () => 0.999_999);

    expect([1, 2, 3].map(low)).toEqual([5, 10, 20]);
    expect([1, 2, 3].map(high)).toEqual([10, 20, 40]);
    expect(high(20)).toBe(policy.maxDelaySeconds);
  });

  it("waits at least a second, whatever the base", () => {
    const policy = { ...defaultDeliveryPolicy, baseDelaySeconds: 1 };
    expect(retryDelaySeconds(1, policy, () => 0)).toBe(1);
  });

  it("never comes back sooner than a Retry-After asks", () => {
    const policy = { ...defaultDeliveryPolicy, baseDelaySeconds: 1 };
    expect(nextDelaySeconds(1, 30, policy, { random: () => 0 })).toBe(30);
    expect(nextDelaySeconds(8, 30, policy, { random: () => 0.999_999 })).toBe(128);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-03-14T12:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7);
    expect(parseRetryAfter("Sat, 14 Mar 2026 12:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Sat, 14 Mar 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter("999999999", now)).toBe(86_400);
  });

  it("takes its limits from the environment, and refuses nonsense", () => {
    const policy = readDeliveryPolicy({
      EMAIL_MAX_ATTEMPTS: "3",
      EMAIL_RETRY_BASE_SECONDS: "1",
      EMAIL_SEND_TIMEOUT_MS: "1500",
    });
    expect(policy).toMatchObject({
      maxAttempts: 3,
      baseDelaySeconds: 1,
      sendTimeoutMs: 1500,
    });
    expect(leaseSeconds(policy)).toBe(3);
    expect(readDeliveryPolicy({})).toEqual(defaultDeliveryPolicy);
    expect(() => readDeliveryPolicy({ EMAIL_MAX_ATTEMPTS: "0" })).toThrow(
      /EMAIL_MAX_ATTEMPTS must be a whole number above 0/,
    );
  });
});

describe("delivering", () => {
  it("honours a 429's Retry-After from the answer's headers", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender } = scripted([
      refused(429, "rate_limit_exceeded", { "retry-after": "120" }),
    ]);

    await deliverDueEmails(workerOptions(db, sender), 1000);

    expect(outboxRow(db)).toMatchObject({
      status: "pending",
      attempts: 1,
      last_attempt_at: 1000,
      next_attempt_at: 1120,
      last_error: "rate_limit_exceeded (429): refused",
    });
  });

  it("counts the retry from when the answer came, not when the send began", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender } = scripted([refused(503, "application_error")]);
    const options = { ...workerOptions(db, sender), clock: () => 1040 };

    await deliverDueEmails(options, 1000);

    expect(outboxRow(db)).toMatchObject({ last_attempt_at: 1000, next_attempt_at: 1045 });
  });

  it("gives up at once on a payload Resend refuses as invalid", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender, calls } = scripted([refused(422, "validation_error")]);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});

    await deliverDueEmails(workerOptions(db, sender), 1000);

    expect(outboxRow(db)).toMatchObject({ status: "failed", attempts: 1 });
    expect(calls).toHaveLength(1);
    expect(String(errors.mock.calls[0]?.[0])).toContain("m***@example.com");
  });

  it("keeps retrying a refused API key: an operator can fix it while the email waits", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender } = scripted([refused(403, "invalid_api_key")]);

    await deliverDueEmails(workerOptions(db, sender), 1000);

    expect(outboxRow(db)).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("marks the row failed after the policy's last attempt, and logs no full address", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender, calls } = scripted([
      refused(500, "internal_server_error"),
      refused(500, "internal_server_error"),
      refused(500, "internal_server_error"),
    ]);
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((line: unknown) => {
        lines.push(String(line));
      });
    }
    const options = workerOptions(db, sender, { maxAttempts: 3, baseDelaySeconds: 1 });

    let now = 1000;
    for (let round = 0; round < 3; round++) {
      await deliverDueEmails(options, now);
      now = outboxRow(db).next_attempt_at;
    }

    expect(calls).toHaveLength(3);
    expect(outboxRow(db)).toMatchObject({ status: "failed", attempts: 3 });
    expect(lines.at(-1)).toMatch(/gave up on welcome #1 to m\*\*\*@example\.com after 3/);
    expect(lines.join("\n")).not.toContain("mara@example.com");
  });

  it("abandons a send that gets no answer in time, and retries it", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const never = (signal?: AbortSignal) =>
      new Promise<Answer>((resolve) => {
        signal?.addEventListener("abort", () =>
          resolve({
            data: null,
            error: { statusCode: null, name: "application_error", message: "aborted" },
            headers: null,
          } as Answer),
        );
      });
    const { sender } = scripted([never]);

    await deliverDueEmails(workerOptions(db, sender, { sendTimeoutMs: 50 }), 1000);

    expect(outboxRow(db)).toMatchObject({
      status: "pending",
      last_error: "no answer from Resend within 50 ms",
    });
  });

  it("sends the payload of the first attempt again, even after the template's data changed", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const { sender, calls } = scripted([
      refused(500, "internal_server_error"),
      accepted("e1"),
    ]);
    const options = workerOptions(db, sender);

    await deliverDueEmails(options, 1000);
    db.prepare("UPDATE outbox SET data = ?").run(
      JSON.stringify({ email: "x@example.com" }),
    );
    await deliverDueEmails(options, outboxRow(db).next_attempt_at);

    expect(calls[1]?.payload).toEqual(calls[0]?.payload);
    expect(outboxRow(db)).toMatchObject({ status: "sent", resend_id: "e1", attempts: 2 });
  });

  it("gives up on a template it does not know", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    db.prepare("UPDATE outbox SET template = 'retired-template'").run();
    const { sender, calls } = scripted([]);
    vi.spyOn(console, "error").mockImplementation(() => {});

    await deliverDueEmails(workerOptions(db, sender), 1000);

    expect(calls).toHaveLength(0);
    expect(outboxRow(db)).toMatchObject({
      status: "failed",
      last_error: 'unknown template "retired-template"',
    });
  });
});

describe("a crash between sending and recording", () => {
  let emulator: ResendEmulator;
  beforeAll(async () => {
    emulator = await startResendEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("sends nothing twice and loses nothing: the lease brings the row back, the key dedupes", async () => {
    const db = openDatabase(":memory:");
    queueWelcome(db, "welcome:crash");
    const resend = new Resend("re_test_crash", { baseUrl: emulator.url });
    const policy = { ...defaultDeliveryPolicy, sendTimeoutMs: 5000 };
    const lease = leaseSeconds(policy);

    // A process that sends and dies before it can record the answer.
    let sentBeforeDying = "";
    const dying: EmailSender = {
      emails: {
        send: (async (...args: Parameters<Send>) => {
          sentBeforeDying = (await resend.emails.send(...args)).data?.id ?? "";
          return new Promise<never>(() => {});
        }) as Send,
      },
    };
    void deliverDueEmails(workerOptions(db, dying, policy), 1000);
    await vi.waitFor(() => expect(sentBeforeDying).not.toBe(""));
    expect(outboxRow(db)).toMatchObject({
      status: "pending",
      attempts: 1,
      next_attempt_at: 1000 + lease,
    });

    // The next process leaves the row alone while the lease runs, then sends
    // it again under the same key: Resend answers the first email's id.
    const survivor = workerOptions(db, resend, policy);
    expect(await deliverDueEmails(survivor, 1000 + lease - 1)).toBe(0);
    expect(await deliverDueEmails(survivor, 1000 + lease)).toBe(1);

    expect(outboxRow(db)).toMatchObject({
      status: "sent",
      attempts: 2,
      resend_id: sentBeforeDying,
    });
    const arrived = emulator
      .emails()
      .filter((e) => e.idempotency_key === "welcome:crash");
    expect(arrived).toHaveLength(1);
  });

  it("lets only one of two workers claim a row", () => {
    const db = openDatabase(":memory:");
    queueWelcome(db);
    const [row] = listDueEmails(db, 1000, 10);
    if (!row) throw new Error("nothing due");

    expect(claimEmail(db, row, 1000, 60)).toBe(true);
    expect(claimEmail(db, row, 1000, 60)).toBe(false);
  });
});
