import { describe, expect, it, vi } from "vitest";
import { type Db, openDatabase } from "../../server/db/database.ts";
import { forgetEndedLinks, queueEmail } from "../../server/email/outbox.ts";
import {
  defaultDeliveryPolicy,
  deliverDueEmails,
  type EmailSender,
  type EmailWorkerOptions,
  retryDelaySeconds,
  startEmailWorker,
} from "../../server/email/worker.ts";

type Send = EmailSender["emails"]["send"];
type Answer = Awaited<ReturnType<Send>>;

interface Call {
  payload: Parameters<Send>[0];
  options: Parameters<Send>[1];
}

function fakeSender(answers: (() => Answer)[]): { sender: EmailSender; calls: Call[] } {
  const calls: Call[] = [];
  const send = async (payload: Call["payload"], options: Call["options"]) => {
    calls.push({ payload, options });
    const next = answers.shift();
    if (!next) throw new Error("no answer prepared");
    return next();
  };
  return { sender: { emails: { send: send as Send } }, calls };
}

const accepted = (id: string) => (): Answer =>
  ({ data: { id }, error: null, headers: {} }) as Answer;
const refused = (): Answer =>
  ({
    data: null,
    error: { name: "rate_limit_exceeded", message: "slow down", statusCode: 429 },
    headers: {},
  }) as Answer;

function setup(answers: (() => Answer)[]) {
  const db = openDatabase(":memory:");
  const { sender, calls } = fakeSender(answers);
  const options: EmailWorkerOptions = {
    db,
    sender,
    from: "The Stacker <letters@stacker.example>",
    site: { name: "The Stacker", url: "https://stacker.example" },
    // The full backoff, without jitter's random half.
    random: () => 0.999_999,
  };
  queueEmail(
    db,
    {
      to: "mara@example.com",
      template: "welcome",
      data: { email: "mara@example.com" },
      idempotencyKey: "welcome:u1",
    },
    1000,
  );
  const row = () =>
    db
      .prepare(
        "SELECT status, attempts, next_attempt_at, last_error, resend_id FROM outbox",
      )
      .get();
  return { db, options, calls, row };
}

describe("the email outbox", () => {
  it("queues one email per idempotency key", () => {
    const { db } = setup([]);
    const again = queueEmail(db, {
      to: "mara@example.com",
      template: "welcome",
      data: { email: "mara@example.com" },
      idempotencyKey: "welcome:u1",
    });
    expect(again).toBe(false);
    expect(db.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 1 });
  });

  it("sends with the row's idempotency key and marks it sent with Resend's id", async () => {
    const { options, calls, row } = setup([accepted("email_123")]);

    expect(await deliverDueEmails(options, 1000)).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.options).toMatchObject({ idempotencyKey: "welcome:u1" });
    expect(calls[0]?.payload).toMatchObject({
      from: "The Stacker <letters@stacker.example>",
      to: "mara@example.com",
      subject: "Welcome to The Stacker",
    });
    expect(calls[0]?.payload.text).toContain("https://stacker.example/account/");
    expect(row()).toMatchObject({ status: "sent", attempts: 1, resend_id: "email_123" });

    expect(await deliverDueEmails(options, 5000)).toBe(0);
    expect(calls).toHaveLength(1);
  });

  it("keeps no sign-in link in the database once its email is sent", async () => {
    const { db, options, calls } = setup([accepted("email_1"), accepted("email_2")]);
    const link = "https://stacker.example/login/link/#token=secret-token-value";
    queueEmail(
      db,
      {
        to: "mara@example.com",
        template: "sign-in-link",
        data: { email: "mara@example.com", url: link, expiresAt: "2026-01-01T00:00:00Z" },
        idempotencyKey: "sign-in:t1",
      },
      1000,
    );

    expect(await deliverDueEmails(options, 1000)).toBe(2);
    expect(calls.map((call) => call.payload.text).join("")).toContain(link);
    const rows = db.prepare("SELECT template, data, rendered FROM outbox").all();
    expect(JSON.stringify(rows)).not.toContain("secret-token-value");
    expect(rows).toContainEqual({
      template: "welcome",
      data: JSON.stringify({ email: "mara@example.com" }),
      rendered: null,
    });
  });

  it("retries a refused send later with backoff, recording the error", async () => {
    const { options, calls, row } = setup([refused, accepted("email_9")]);

    expect(await deliverDueEmails(options, 1000)).toBe(0);
    expect(row()).toMatchObject({
      status: "pending",
      attempts: 1,
      next_attempt_at: 1005,
      last_error: "rate_limit_exceeded (429): slow down",
    });

    expect(await deliverDueEmails(options, 1004)).toBe(0);
    expect(await deliverDueEmails(options, 1005)).toBe(1);
    expect(calls.map((call) => call.options?.idempotencyKey)).toEqual([
      "welcome:u1",
      "welcome:u1",
    ]);
  });

  it("does not count an answer without an email id as sent", async () => {
    const { options, row } = setup([
      () => ({ data: null, error: null, headers: {} }) as unknown as Answer,
    ]);
    await deliverDueEmails(options, 1000);
    expect(row()).toMatchObject({ status: "pending", attempts: 1, resend_id: null });
  });

  it("gives up after the last attempt", async () => {
    const { db, options, row } = setup([refused]);
    const { maxAttempts } = defaultDeliveryPolicy;
    db.prepare("UPDATE outbox SET attempts = ?").run(maxAttempts - 1);
    await deliverDueEmails(options, 1000);
    expect(row()).toMatchObject({ status: "failed", attempts: maxAttempts });
  });

  it("backs off exponentially up to an hour", () => {
    const full = (attempts: number) =>
      retryDelaySeconds(attempts, defaultDeliveryPolicy, () => 0.999_999);
    expect([1, 2, 3, 4].map(full)).toEqual([5, 10, 20, 40]);
    expect(full(30)).toBe(3600);
  });

  it("keeps no link in the database once it gives a link email up", async () => {
    const invalid = (): Answer =>
      ({
        data: null,
        error: { name: "validation_error", message: "bad", statusCode: 422 },
        headers: {},
      }) as Answer;
    const { db, options } = setup([accepted("email_1"), refused, invalid]);
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    queueSignInLink(db, "sign-in:t1");

    await deliverDueEmails(options, 1000);
    const waiting = linkRows(db)[0];
    expect(waiting?.status).toBe("pending");
    // Between attempts the row holds its link, rendered and as data.
    expect(waiting?.data).toContain("secret-token-value");
    expect(waiting?.rendered).toContain("secret-token-value");

    await deliverDueEmails(options, 1005);
    expect(linkRows(db)).toEqual([
      {
        status: "failed",
        data: "{}",
        rendered: null,
        last_error: "validation_error (422): bad",
      },
    ]);
    vi.restoreAllMocks();
  });

  it("refuses at once to send a given-up link email again, and says why", async () => {
    const { db, options, calls } = setup([accepted("email_1")]);
    vi.spyOn(console, "error").mockImplementation(() => {});
    queueSignInLink(db, "sign-in:t1");
    db.prepare(
      `UPDATE outbox SET data = '{}', status = 'pending' WHERE template = 'sign-in-link'`,
    ).run();

    await deliverDueEmails(options, 1000);
    expect(calls).toHaveLength(1);
    expect(linkRows(db)[0]).toMatchObject({
      status: "failed",
      last_error: expect.stringContaining("its link was removed"),
    });
    vi.restoreAllMocks();
  });

  it("forgets the links of ended emails when the worker starts, and only theirs", async () => {
    const { db, options } = setup([]);
    queueSignInLink(db, "sign-in:ended");
    queueSignInLink(db, "sign-in:waiting");
    db.prepare(
      `UPDATE outbox SET status = 'failed', rendered = '{"text":"secret-token-value"}'
        WHERE idempotency_key IN ('sign-in:ended', 'welcome:u1')`,
    ).run();
    vi.spyOn(console, "log").mockImplementation(() => {});

    const worker = startEmailWorker({ ...options, pollMs: 60_000 });
    await worker.stop();

    const rows = db
      .prepare("SELECT idempotency_key, data, rendered FROM outbox ORDER BY id")
      .all() as { idempotency_key: string; data: string; rendered: string | null }[];
    expect(rows.map((row) => [row.idempotency_key, row.data.includes("secret")])).toEqual(
      [
        ["welcome:u1", false],
        ["sign-in:ended", false],
        ["sign-in:waiting", true],
      ],
    );
    expect(rows[0]?.rendered).not.toBeNull();
    expect(rows[1]?.rendered).toBeNull();
    expect(forgetEndedLinks(db)).toBe(0);
    vi.restoreAllMocks();
  });
});

function queueSignInLink(db: Db, idempotencyKey: string): void {
  queueEmail(
    db,
    {
      to: "mara@example.com",
      template: "sign-in-link",
      data: {
        email: "mara@example.com",
        url: "https://stacker.example/login/link/#token=secret-token-value",
        expiresAt: "2026-01-01T00:00:00Z",
      },
      idempotencyKey,
    },
    1000,
  );
}

interface LinkRow {
  status: string;
  data: string;
  rendered: string | null;
  last_error: string | null;
}

function linkRows(db: Db): LinkRow[] {
  return db
    .prepare(
      `SELECT status, data, rendered, last_error FROM outbox
        WHERE template = 'sign-in-link' ORDER BY id`,
    )
    .all() as LinkRow[];
}
