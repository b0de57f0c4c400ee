import type { Resend } from "resend";
import type { Db } from "../db/database.ts";
import { logError, logInfo, logWarn, maskEmail } from "../log.ts";
import {
  claimEmail,
  forgetEndedLinks,
  isLinkTemplate,
  listDueEmails,
  markEmailFailed,
  markEmailSent,
  type OutboxRow,
  saveRendered,
} from "./outbox.ts";
import {
  type EmailSite,
  isTemplateName,
  type RenderedEmail,
  renderEmail,
} from "./templates.ts";

/**
 * Delivers the outbox through Resend. Each row is sent with its own idempotency
 * key, so a retry after a crash or a timeout never reaches the reader twice. A
 * row counts as sent only when Resend answers with an email id. Anything else
 * is retried with exponential backoff and jitter, no sooner than a
 * `Retry-After` asks, until the policy's last attempt or the key's horizon
 * (KEY_HORIZON_SECONDS), whichever comes first; then the row is marked failed.
 * An answer that no retry can change (a payload Resend refuses as invalid) is
 * given up at once.
 */

export interface DeliveryPolicy {
  /** Attempts before a row is marked failed. */
  maxAttempts: number;
  /** The wait after the first failure; each further failure doubles it. */
  baseDelaySeconds: number;
  /** The longest wait between two attempts, Retry-After aside. */
  maxDelaySeconds: number;
  /** A send without an answer by then is abandoned and retried. */
  sendTimeoutMs: number;
}

export const defaultDeliveryPolicy: DeliveryPolicy = {
  maxAttempts: 20,
  baseDelaySeconds: 5,
  maxDelaySeconds: 3600,
  sendTimeoutMs: 30_000,
};

/**
 * How long after an email was queued it may still be tried. Resend keeps an
 * idempotency key for 24 hours from the first request that carries it, and
 * that request comes no sooner than the queuing; the hour left over covers a
 * send under way and clocks that disagree. A retry after it could reach the
 * reader a second time, so none is made: the email is marked failed instead.
 */
export const KEY_HORIZON_SECONDS = 23 * 60 * 60;

/** The longest Retry-After honoured as given; a longer one is cut to a day. */
const MAX_RETRY_AFTER_SECONDS = 86_400;
const BATCH_SIZE = 20;

export interface EmailSender {
  emails: Pick<Resend["emails"], "send">;
}

export interface EmailWorkerOptions {
  db: Db;
  sender: EmailSender;
  from: string;
  site: EmailSite;
  pollMs?: number;
  policy?: DeliveryPolicy;
  /**
   * Unix seconds now, fractions allowed. A retry is counted from the answer's
   * time rounded up, so that it never comes sooner than the wait it was given.
   */
  clock?: () => number;
  /** In [0, 1): the jitter's source. */
  random?: () => number;
}

export interface EmailWorker {
  /**
   * Stops polling and waits for a delivery under way to finish; then, for up
   * to `drainMs`, delivers email already due (mail a request queued just
   * before a shutdown goes out now rather than at the next start).
   */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The delivery policy from the environment: EMAIL_MAX_ATTEMPTS,
 * EMAIL_RETRY_BASE_SECONDS and EMAIL_SEND_TIMEOUT_MS, each a positive whole
 * number; unset ones keep their defaults.
 */
export function readDeliveryPolicy(env: NodeJS.ProcessEnv = process.env): DeliveryPolicy {
  return {
    ...defaultDeliveryPolicy,
    maxAttempts: readPositive(
      env,
      "EMAIL_MAX_ATTEMPTS",
      defaultDeliveryPolicy.maxAttempts,
    ),
    baseDelaySeconds: readPositive(
      env,
      "EMAIL_RETRY_BASE_SECONDS",
      defaultDeliveryPolicy.baseDelaySeconds,
    ),
    sendTimeoutMs: readPositive(
      env,
      "EMAIL_SEND_TIMEOUT_MS",
      defaultDeliveryPolicy.sendTimeoutMs,
    ),
  };
}

/** EMAIL_POLL_MS: how often the worker looks for due email (default 1000). */
export function readPollMs(env: NodeJS.ProcessEnv = process.env): number {
  return readPositive(env, "EMAIL_POLL_MS", 1000);
}

function readPositive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number above 0, not "${raw}"`);
  }
  return value;
}

/**
 * EMAIL_SHUTDOWN_DRAIN_MS: how long a stopping server keeps delivering email
 * that is already due (default 5000; 0 stops after the delivery under way).
 * Keep it well below NITRO_SHUTDOWN_TIMEOUT, which bounds the whole shutdown.
 */
export function readShutdownDrainMs(env: NodeJS.ProcessEnv = process.env): number {
  if (env.EMAIL_SHUTDOWN_DRAIN_MS?.trim() === "0") return 0;
  return readPositive(env, "EMAIL_SHUTDOWN_DRAIN_MS", 5000);
}

/**
 * How long a claimed row stays out of other attempts' way: twice the send
 * timeout, so it comes due again only when the attempt that claimed it can no
 * longer be running (its process died between sending and recording).
 */
export function leaseSeconds(policy: DeliveryPolicy): number {
  return Math.max(1, Math.ceil((2 * policy.sendTimeoutMs) / 1000));
}

export function startEmailWorker(options: EmailWorkerOptions): EmailWorker {
  const forgotten = forgetEndedLinks(options.db);
  if (forgotten > 0) logInfo("email", `removed the links of ${forgotten} ended emails`);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async (): Promise<void> => {
    try {
      await deliverDueEmails(options, nowOf(options));
    } catch (error) {
      logError("email", "the outbox could not be processed", error);
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, options.pollMs ?? 1000);
  };

  schedule();
  return {
    async stop(drainMs = 0) {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (drainMs > 0) await drainDueEmails(options, Date.now() + drainMs);
    },
  };
}

/**
 * Delivers due email in batches until none is left or the deadline (epoch
 * milliseconds) has passed. A send under way at the deadline is finished, not
 * abandoned: its row is claimed, and cutting it short could only delay it.
 * A failed attempt moves its row's next attempt into the future, so every
 * batch is new mail and the loop ends.
 */
async function drainDueEmails(
  options: EmailWorkerOptions,
  deadlineMs: number,
): Promise<void> {
  try {
    while (Date.now() < deadlineMs) {
      const { tried } = await deliverBatch(options, nowOf(options), deadlineMs);
      if (tried === 0) return;
    }
  } catch (error) {
    logError("email", "the outbox could not be drained at shutdown", error);
  }
}

/**
 * Sends every email that is due now, one batch at most, and returns how many
 * were sent. A row another server process claimed first is skipped.
 */
export async function deliverDueEmails(
  options: EmailWorkerOptions,
  nowSeconds: number,
): Promise<number> {
  return (await deliverBatch(options, nowSeconds)).sent;
}

/** One batch of due email; with a deadline (epoch ms), no attempt starts after it. */
async function deliverBatch(
  options: EmailWorkerOptions,
  nowSeconds: number,
  deadlineMs = Number.POSITIVE_INFINITY,
): Promise<{ tried: number; sent: number }> {
  const policy = options.policy ?? defaultDeliveryPolicy;
  const counts = { tried: 0, sent: 0 };
  for (const row of listDueEmails(options.db, nowSeconds, BATCH_SIZE)) {
    if (Date.now() >= deadlineMs) break;
    if (!claimEmail(options.db, row, nowSeconds, leaseSeconds(policy))) continue;
    counts.tried++;
    if (await deliverEmail(options, row, nowSeconds)) counts.sent++;
  }
  return counts;
}

async function deliverEmail(
  options: EmailWorkerOptions,
  row: OutboxRow,
  startedAt: number,
): Promise<boolean> {
  const policy = options.policy ?? defaultDeliveryPolicy;
  const attempt = row.attempts + 1;
  const label = `${row.template} #${row.id} to ${maskEmail(row.to_address)}`;
  const horizon = row.created_at + KEY_HORIZON_SECONDS;

  // A row tried before comes back after its horizon when the server was down
  // meanwhile, or its last attempt's lease ran out late.
  if (row.attempts > 0 && startedAt >= horizon) {
    giveUpAfterHorizon(options.db, row.id, `${label} after ${row.attempts} attempts`);
    return false;
  }

  const outcome = await sendRow(options, row, policy);
  const answeredAt = Math.max(startedAt, Math.ceil(options.clock?.() ?? startedAt));

  if (outcome.ok) {
    markEmailSent(options.db, row.id, outcome.id, answeredAt);
    logInfo("email", `sent ${label} (attempt ${attempt})`);
    return true;
  }

  if (!outcome.retry || attempt >= policy.maxAttempts) {
    markEmailFailed(options.db, row.id, outcome.error, null);
    const why = outcome.retry ? `after ${attempt} attempts` : "Resend refused it";
    logError("email", `gave up on ${label} ${why}: ${outcome.error}`);
    return false;
  }

  const delay = nextDelaySeconds(attempt, outcome.retryAfterSeconds, policy, options);
  if (answeredAt + delay >= horizon) {
    const tried = `${label} after ${attempt} attempts`;
    giveUpAfterHorizon(options.db, row.id, tried, outcome.error);
    return false;
  }
  markEmailFailed(options.db, row.id, outcome.error, answeredAt + delay);
  logWarn(
    "email",
    `${label}: attempt ${attempt} of ${policy.maxAttempts} failed: ${outcome.error}; ` +
      `next in ${delay}s`,
  );
  return false;
}

/**
 * Marks a row failed because its next attempt would come after Resend may
 * have forgotten its key, keeping the last error Resend gave, if any.
 */
function giveUpAfterHorizon(db: Db, id: number, tried: string, lastError?: string): void {
  const hours = KEY_HORIZON_SECONDS / 3600;
  const why = `no retry ${hours} hours or more after it was queued, as Resend may have forgotten its key by then`;
  const error = lastError ? `${lastError}; ${why}` : why;
  markEmailFailed(db, id, error, null);
  logError("email", `gave up on ${tried}: ${error}`);
}

type SendOutcome =
  | { ok: true; id: string }
  | { ok: false; error: string; retry: boolean; retryAfterSeconds: number | null };

function failure(error: string, retry: boolean): SendOutcome {
  return { ok: false, error, retry, retryAfterSeconds: null };
}

async function sendRow(
  options: EmailWorkerOptions,
  row: OutboxRow,
  policy: DeliveryPolicy,
): Promise<SendOutcome> {
  const email = renderRow(options, row);
  if ("error" in email) return failure(email.error, false);

  const signal = AbortSignal.timeout(policy.sendTimeoutMs);
  try {
    const answer = await options.sender.emails.send(
      { from: options.from, to: row.to_address, ...email },
      { idempotencyKey: row.idempotency_key, signal },
    );
    if (answer.data?.id) return { ok: true, id: answer.data.id };
    if (signal.aborted) {
      return failure(`no answer from Resend within ${policy.sendTimeoutMs} ms`, true);
    }
    if (!answer.error) return failure("Resend answered without an email id", true);
    return {
      ok: false,
      error: describeResendError(answer.error),
      retry: !isPermanent(answer.error),
      retryAfterSeconds: parseRetryAfter(answer.headers?.["retry-after"], Date.now()),
    };
  } catch (error) {
    return failure(error instanceof Error ? error.message : String(error), true);
  }
}

/**
 * The email to send: rendered at the first attempt and kept on the row, so a
 * retry sends the same payload under the same idempotency key even after a
 * template was reworded (Resend refuses a key reused with another payload).
 */
function renderRow(
  options: EmailWorkerOptions,
  row: OutboxRow,
): RenderedEmail | { error: string } {
  try {
    if (row.rendered !== null) return JSON.parse(row.rendered) as RenderedEmail;
    if (!isTemplateName(row.template)) {
      return { error: `unknown template "${row.template}"` };
    }
    const data = JSON.parse(row.data);
    if (isLinkTemplate(row.template) && typeof data.url !== "string") {
      return {
        error:
          "its link was removed when the email ended; the reader must ask for a new one",
      };
    }
    const email = renderEmail(row.template, data, options.site);
    saveRendered(options.db, row.id, email);
    return email;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: `the ${row.template} template failed: ${message}` };
  }
}

interface ResendError {
  name?: string;
  message?: string;
  statusCode?: number | null;
}

/**
 * Answers no retry can change: the payload itself is invalid, or its key was
 * already used for another payload. Missing or refused API keys and sender
 * domains are retried instead: an operator can fix those while the email waits.
 */
const PERMANENT_ERRORS = new Set([
  "validation_error",
  "missing_required_field",
  "invalid_attachment",
  "invalid_parameter",
  "invalid_idempotency_key",
  "invalid_idempotent_request",
]);

function isPermanent(error: ResendError): boolean {
  return PERMANENT_ERRORS.has(error.name ?? "");
}

function describeResendError(error: ResendError): string {
  const status = error.statusCode ? ` (${error.statusCode})` : "";
  return `${error.name ?? "error"}${status}: ${error.message ?? "no message"}`;
}

/**
 * Seconds a `Retry-After` header asks to wait: a number of seconds, or an HTTP
 * date. Null when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  const raw = value?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Math.min(Number(raw), MAX_RETRY_AFTER_SECONDS);

  const at = Date.parse(raw);
  if (Number.isNaN(at)) return null;
  const seconds = Math.ceil((at - nowMs) / 1000);
  return Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_SECONDS);
}

/**
 * The wait after a failed attempt: exponential backoff with jitter (between
 * half and all of `base × 2^(n-1)`, capped at the maximum, so a crowd of
 * emails that failed together does not come back together), and never less
 * than a Retry-After.
 */
export function nextDelaySeconds(
  failedAttempts: number,
  retryAfterSeconds: number | null,
  policy: DeliveryPolicy,
  options: Pick<EmailWorkerOptions, "random"> = {},
): number {
  const backoff = retryDelaySeconds(failedAttempts, policy, options.random);
  return Math.max(backoff, retryAfterSeconds ?? 0);
}

export function retryDelaySeconds(
  failedAttempts: number,
  policy: DeliveryPolicy = defaultDeliveryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const ceiling = Math.min(
    policy.maxDelaySeconds,
    policy.baseDelaySeconds * 2 ** exponent,
  );
  return Math.max(1, Math.ceil(ceiling / 2 + (random() * ceiling) / 2));
}

function nowOf(options: EmailWorkerOptions): number {
  return Math.floor(options.clock?.() ?? Date.now() / 1000);
}
