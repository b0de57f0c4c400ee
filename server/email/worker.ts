import type { Resend } from "resend";
import type { Db } from "../db/database.ts";
import { logError, logInfo, logWarn } from "../log.ts";
import {
  claimEmail,
  listDueEmails,
  markEmailFailed,
  markEmailSent,
  type OutboxRow,
} from "./outbox.ts";
import { type EmailSite, isTemplateName, renderEmail } from "./templates.ts";

/**
 * Delivers the outbox through Resend. Each row is sent with its own idempotency
 * key, so a retry after a crash or a timeout never reaches the reader twice. A
 * row counts as sent only when Resend answers with an email id; anything else
 * is retried with exponential backoff, and given up after MAX_ATTEMPTS.
 */

export const MAX_ATTEMPTS = 20;
const LEASE_SECONDS = 120;
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
}

export interface EmailWorker {
  /** Stops polling and waits for a delivery under way to finish. */
  stop(): Promise<void>;
}

export function startEmailWorker(options: EmailWorkerOptions): EmailWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async (): Promise<void> => {
    try {
      await deliverDueEmails(options, Math.floor(Date.now() / 1000));
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
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Sends every email that is due now; returns how many were sent. */
export async function deliverDueEmails(
  options: EmailWorkerOptions,
  nowSeconds: number,
): Promise<number> {
  let sent = 0;
  for (const row of listDueEmails(options.db, nowSeconds, BATCH_SIZE)) {
    if (!claimEmail(options.db, row, nowSeconds, LEASE_SECONDS)) continue;
    if (await deliverEmail(options, row, nowSeconds)) sent++;
  }
  return sent;
}

async function deliverEmail(
  options: EmailWorkerOptions,
  row: OutboxRow,
  nowSeconds: number,
): Promise<boolean> {
  const outcome = await sendRow(options, row);

  if (outcome.ok) {
    markEmailSent(options.db, row.id, outcome.id, nowSeconds);
    logInfo("email", `sent ${row.template} #${row.id}`);
    return true;
  }

  const attempt = row.attempts + 1;
  const retryAt =
    attempt >= MAX_ATTEMPTS ? null : nowSeconds + retryDelaySeconds(attempt);
  markEmailFailed(options.db, row.id, outcome.error, retryAt);
  const next = retryAt === null ? "giving up" : `retry in ${retryAt - nowSeconds}s`;
  logWarn(
    "email",
    `${row.template} #${row.id} failed (attempt ${attempt}): ${outcome.error}; ${next}`,
  );
  return false;
}

type SendOutcome = { ok: true; id: string } | { ok: false; error: string };

async function sendRow(
  options: EmailWorkerOptions,
  row: OutboxRow,
): Promise<SendOutcome> {
  if (!isTemplateName(row.template)) {
    return { ok: false, error: `unknown template "${row.template}"` };
  }

  try {
    const email = renderEmail(row.template, JSON.parse(row.data), options.site);
    const { data, error } = await options.sender.emails.send(
      { from: options.from, to: row.to_address, ...email },
      { idempotencyKey: row.idempotency_key },
    );
    if (data?.id) return { ok: true, id: data.id };
    if (error) return { ok: false, error: describeResendError(error) };
    return { ok: false, error: "Resend answered without an email id" };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function describeResendError(error: {
  name?: string;
  message?: string;
  statusCode?: number | null;
}): string {
  const status = error.statusCode ? ` (${error.statusCode})` : "";
  return `${error.name ?? "error"}${status}: ${error.message ?? "no message"}`;
}

/** 5 s after the first failure, doubling each time, at most an hour apart. */
export function retryDelaySeconds(failedAttempts: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, failedAttempts - 1));
}
