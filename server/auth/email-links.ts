import { siteUrl } from "../billing/site-url.ts";
import type { Db } from "../db/database.ts";
import { queueEmail } from "../email/outbox.ts";
import {
  type IssuedToken,
  invalidateTokens,
  issueToken,
  type TokenLookup,
} from "./tokens.ts";

/**
 * The links Tierwall emails to readers. Each function issues a token and
 * queues its email; run them inside the transaction of the change that causes
 * the email, so that the two exist together or not at all.
 *
 * The token travels in the link's fragment (`#token=`): browsers never send a
 * fragment to a server, so it stays out of access logs and Referer headers.
 * The page it opens asks the reader to press a button, and only that POST uses
 * the token, so a mail scanner that follows links does not burn it.
 */

interface LinkReader {
  id: string;
  email: string;
}

/** Asks the reader to confirm the address they signed up with. */
export function sendVerificationLink(
  db: Db,
  reader: LinkReader,
  nowSeconds: number,
): void {
  const issued = issueToken(
    db,
    { userId: reader.id, purpose: "verify-email" },
    nowSeconds,
  );
  queueEmail(
    db,
    {
      to: reader.email,
      template: "verify-email",
      data: linkData(reader.email, "/verify-email/", issued),
      idempotencyKey: `verify-email:${issued.id}`,
    },
    nowSeconds,
  );
}

/**
 * Asks the owner of `newEmail` to confirm it: the account moves to that address
 * only when they do.
 */
export function sendEmailChangeLink(
  db: Db,
  readerId: string,
  newEmail: string,
  nowSeconds: number,
): void {
  const issued = issueToken(
    db,
    { userId: readerId, purpose: "change-email", newEmail },
    nowSeconds,
  );
  queueEmail(
    db,
    {
      to: newEmail,
      template: "verify-email",
      data: { ...linkData(newEmail, "/verify-email/", issued), reason: "change" },
      idempotencyKey: `change-email:${issued.id}`,
    },
    nowSeconds,
  );
}

export function sendSignInLink(
  db: Db,
  reader: LinkReader,
  next: string,
  nowSeconds: number,
): void {
  const issued = issueToken(db, { userId: reader.id, purpose: "sign-in" }, nowSeconds);
  queueEmail(
    db,
    {
      to: reader.email,
      template: "sign-in-link",
      data: linkData(reader.email, "/login/link/", issued, next),
      idempotencyKey: `sign-in:${issued.id}`,
    },
    nowSeconds,
  );
}

export function sendPasswordResetLink(
  db: Db,
  reader: LinkReader,
  nowSeconds: number,
): void {
  const issued = issueToken(
    db,
    { userId: reader.id, purpose: "password-reset" },
    nowSeconds,
  );
  queueEmail(
    db,
    {
      to: reader.email,
      template: "password-reset",
      data: linkData(reader.email, "/reset-password/new/", issued),
      idempotencyKey: `password-reset:${issued.id}`,
    },
    nowSeconds,
  );
}

/** Queued once per reader, the first time they prove their address. */
export function sendWelcome(db: Db, reader: LinkReader, nowSeconds: number): void {
  queueEmail(
    db,
    {
      to: reader.email,
      template: "welcome",
      data: { email: reader.email },
      idempotencyKey: `welcome:${reader.id}`,
    },
    nowSeconds,
  );
}

/**
 * Makes every unused link the reader was emailed dead, whatever it was for,
 * and drops the emails still waiting to carry one. A new password runs it: a
 * link asked for with the old one (a move to another mailbox, above all) must
 * not outlive it. Run it in the transaction that sets the password.
 */
export function dropEmailedLinks(db: Db, readerId: string): void {
  db.prepare(
    `DELETE FROM outbox
      WHERE status = 'pending'
        AND idempotency_key IN (
              SELECT purpose || ':' || id FROM auth_token
               WHERE user_id = ? AND used_at IS NULL)`,
  ).run(readerId);
  invalidateTokens(db, readerId);
}

export interface LinkRefusal {
  status: 400 | 410;
  message: string;
}

/** What to tell a reader whose link did not work, and with which status. */
export function describeLinkFailure(
  reason: Extract<TokenLookup, { ok: false }>["reason"],
  askAgain: string,
): LinkRefusal {
  if (reason === "used") {
    return { status: 410, message: `This link has already been used. ${askAgain}` };
  }
  if (reason === "expired") {
    return { status: 410, message: `This link has expired. ${askAgain}` };
  }
  return {
    status: 400,
    message: `This link is not valid: it may be incomplete, or a newer one replaced it. ${askAgain}`,
  };
}

function linkData(
  email: string,
  page: string,
  issued: IssuedToken,
  next?: string,
): { email: string; url: string; expiresAt: string } {
  const fragment = new URLSearchParams({ token: issued.token });
  if (next && next !== "/account/") fragment.set("next", next);
  return {
    email,
    url: siteUrl(`${page}#${fragment}`),
    expiresAt: new Date(issued.expiresAt * 1000).toISOString(),
  };
}
