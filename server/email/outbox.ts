import type { Db } from "../db/database.ts";
import type { TemplateData, TemplateName } from "./templates.ts";

/**
 * The email outbox. A change that should send email (a sign-up, a payment that
 * failed) queues the email in the same transaction as the change, so the email
 * exists exactly when the change does; the worker delivers it later.
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
  attempts: number;
  next_attempt_at: number;
}

export function listDueEmails(db: Db, nowSeconds: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, idempotency_key, to_address, template, data, attempts, next_attempt_at
         FROM outbox
        WHERE status = 'pending' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id
        LIMIT ?`,
    )
    .all(nowSeconds, limit) as OutboxRow[];
}

/**
 * Takes a row for one delivery attempt by pushing its next attempt past the
 * lease. Another worker on the same database then skips it, and if this process
 * dies mid-send the row comes due again after the lease, with the same
 * idempotency key, so Resend does not send it twice.
 */
export function claimEmail(
  db: Db,
  row: OutboxRow,
  nowSeconds: number,
  leaseSeconds: number,
): boolean {
  const result = db
    .prepare(
      `UPDATE outbox SET next_attempt_at = ?
        WHERE id = ? AND status = 'pending' AND next_attempt_at = ?`,
    )
    .run(nowSeconds + leaseSeconds, row.id, row.next_attempt_at);
  return result.changes === 1;
}

export function markEmailSent(
  db: Db,
  id: number,
  resendId: string,
  nowSeconds: number,
): void {
  db.prepare(
    `UPDATE outbox SET status = 'sent', resend_id = ?, sent_at = ?, attempts = attempts + 1,
                       last_error = NULL
      WHERE id = ?`,
  ).run(resendId, nowSeconds, id);
}

/** Records a failed attempt; the row is retried at `retryAt`, or given up when null. */
export function markEmailFailed(
  db: Db,
  id: number,
  error: string,
  retryAt: number | null,
): void {
  db.prepare(
    `UPDATE outbox SET attempts = attempts + 1, last_error = ?,
                       status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
                       next_attempt_at = COALESCE(?, next_attempt_at)
      WHERE id = ?`,
  ).run(error.slice(0, 500), retryAt, retryAt, id);
}
