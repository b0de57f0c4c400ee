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
  /** Unix seconds when it was queued: no attempt can come before. */
  created_at: number;
  next_attempt_at: number;
  /** The subject and bodies sent at the first attempt, as JSON; null before it. */
  rendered: string | null;
}

export function listDueEmails(db: Db, nowSeconds: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, idempotency_key, to_address, template, data, attempts, created_at,
              next_attempt_at, rendered
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
 * While such an email waits to be sent its row holds the link, since the
 * worker must send it; once the row ends, sent or given up, its link lives
 * only in the reader's inbox (or nowhere): the row keeps who, what and when.
 */
export const LINK_TEMPLATES: readonly TemplateName[] = [
  "verify-email",
  "sign-in-link",
  "password-reset",
];

export function isLinkTemplate(template: string): boolean {
  return (LINK_TEMPLATES as readonly string[]).includes(template);
}

const links = JSON.stringify(LINK_TEMPLATES);
const IS_LINK = "template IN (SELECT value FROM json_each(@links))";

/**
 * SET clauses that empty a link email's data and what was rendered from it.
 * Other emails keep what they rendered while they may still be retried, so
 * a retry sends the very payload Resend may have seen under the same key.
 */
const FORGET_LINK = `data = CASE WHEN ${IS_LINK} THEN '{}' ELSE data END,
  rendered = CASE WHEN ${IS_LINK} THEN NULL ELSE rendered END`;

export function markEmailSent(
  db: Db,
  id: number,
  resendId: string,
  nowSeconds: number,
): void {
  db.prepare(
    `UPDATE outbox SET status = 'sent', resend_id = @resendId, sent_at = @now,
                       last_error = NULL, rendered = NULL,
                       data = CASE WHEN ${IS_LINK} THEN '{}' ELSE data END
      WHERE id = @id`,
  ).run({ resendId, now: nowSeconds, links, id });
}

/**
 * Records a failed attempt; the row is retried at `retryAt`, or given up when
 * null. A row given up forgets its link like a sent one: nobody will ever
 * read that link in an inbox, so it would live on only in the database, its
 * backups and its copies. Trying it again later fails at once (see worker.ts), and the
 * reader asks for a new link, which is what they would need by then anyway.
 */
export function markEmailFailed(
  db: Db,
  id: number,
  error: string,
  retryAt: number | null,
): void {
  if (retryAt !== null) {
    db.prepare(
      `UPDATE outbox SET last_error = ?, next_attempt_at = ?
        WHERE id = ? AND status = 'pending'`,
    ).run(error.slice(0, 500), retryAt, id);
    return;
  }
  db.prepare(
    `UPDATE outbox SET last_error = @error, status = 'failed', ${FORGET_LINK}
      WHERE id = @id AND status = 'pending'`,
  ).run({ error: error.slice(0, 500), links, id });
}

/**
 * Empties the link of every link email that has ended but still holds one:
 * rows given up on before markEmailFailed forgot links, or set back to
 * `failed` by hand. The worker runs it when it starts.
 */
export function forgetEndedLinks(db: Db): number {
  return db
    .prepare(
      `UPDATE outbox SET ${FORGET_LINK}
        WHERE status <> 'pending' AND ${IS_LINK}
          AND (data <> '{}' OR rendered IS NOT NULL)`,
    )
    .run({ links }).changes;
}
