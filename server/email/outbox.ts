import type { Db } from "../db/database.ts";
import type { RenderedEmail, TemplateData, TemplateName } from "./templates.ts";

/**
 * The email outbox. A change that should send email (a sign-up, a payment that
 * failed) queues the email in the same transaction as the change, so the email
 * exists exactly when the change does; the worker delivers it later.
 *
 * A row is `pending` until Resend accepts it (`sent`, with Resend's id) or the
 * worker gives up on it (`failed`, with the last error). `attempts` counts the
 * delivery attempts started, `last_attempt_at` says when the latest one began,
 * and `next_attempt_at` when the next may begin.
 */

export interface EmailToQueue<T extends TemplateName> {
  to: string;
  template: T;
  data: TemplateData[T];
  /** One key per cause, e.g. `welcome:<userId>`: queuing it twice sends one email. */
  idempotencyKey: string;
}

/** Returns false when an email with the same idempotency key was already queued. */
export function queueEmail<T extends TemplateName>(
  db: Db,
  email: EmailToQueue<T>,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): boolean {
  const result = db
    .prepare(
      `INSERT INTO outbox (idempotency_key, to_address, template, data, next_attempt_at,
                           created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(idempotency_key) DO NOTHING`,
    )
    .run(
      email.idempotencyKey,
      email.to,
      email.template,
      JSON.stringify(email.data),
      nowSeconds,
      nowSeconds,
    );
  return result.changes === 1;
}

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  to_address: string;
  template: string;
  data: string;
  /** Attempts started before this one. */
  attempts: number;
  next_attempt_at: number;
  /** The subject and bodies sent at the first attempt, as JSON; null before it. */
  rendered: string | null;
}

export function listDueEmails(db: Db, nowSeconds: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, idempotency_key, to_address, template, data, attempts, next_attempt_at,
              rendered
         FROM outbox
        WHERE status = 'pending' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id
        LIMIT ?`,
    )
    .all(nowSeconds, limit) as OutboxRow[];
}

/**
 * Takes a row for one delivery attempt: counts the attempt and pushes the next
 * one past the lease. Another worker on the same database then skips the row,
 * and if this process dies mid-send the row comes due again after the lease,
 * with the same idempotency key, so Resend does not send it twice. Counting at
 * the start means an email whose attempts keep killing the process still
 * reaches the limit and is given up.
 */
export function claimEmail(
  db: Db,
  row: OutboxRow,
  nowSeconds: number,
  leaseSeconds: number,
): boolean {
  const result = db
    .prepare(
      `UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, last_attempt_at = ?
        WHERE id = ? AND status = 'pending' AND next_attempt_at = ? AND attempts = ?`,
    )
    .run(
      nowSeconds + leaseSeconds,
      nowSeconds,
      row.id,
      row.next_attempt_at,
      row.attempts,
    );
  return result.changes === 1;
}

/** Keeps what the first attempt rendered, for every later attempt to send as it is. */
export function saveRendered(db: Db, id: number, email: RenderedEmail): void {
  db.prepare("UPDATE outbox SET rendered = ? WHERE id = ? AND rendered IS NULL").run(
    JSON.stringify(email),
    id,
  );
}

/**
 * Templates whose data carries a live sign-in, reset or confirmation link.
 * Once such an email is sent its link lives only in the reader's inbox: the
 * row keeps who, what and when, but not the link.
 */
const LINK_TEMPLATES: readonly TemplateName[] = [
  "verify-email",
  "sign-in-link",
  "password-reset",
];

export function markEmailSent(
  db: Db,
  id: number,
  resendId: string,
  nowSeconds: number,
): void {
  db.prepare(
    `UPDATE outbox SET status = 'sent', resend_id = ?, sent_at = ?, last_error = NULL,
                       rendered = NULL,
                       data = CASE WHEN template IN (SELECT value FROM json_each(?))
                                   THEN '{}' ELSE data END
      WHERE id = ?`,
  ).run(resendId, nowSeconds, JSON.stringify(LINK_TEMPLATES), id);
}

/** Records a failed attempt; the row is retried at `retryAt`, or given up when null. */
export function markEmailFailed(
  db: Db,
  id: number,
  error: string,
  retryAt: number | null,
): void {
  db.prepare(
    `UPDATE outbox SET last_error = ?,
                       status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
                       next_attempt_at = COALESCE(?, next_attempt_at)
      WHERE id = ? AND status = 'pending'`,
  ).run(error.slice(0, 500), retryAt, retryAt, id);
}
