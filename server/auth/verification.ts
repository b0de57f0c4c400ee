import type { Db } from "../db/database.ts";
import { queueEmail } from "../email/outbox.ts";
import { logInfo, logWarn } from "../log.ts";
import { sendVerificationLink, sendWelcome } from "./email-links.ts";
import {
  type RateLimitVerdict,
  takeRateLimitHits,
  verificationEmailsPerAddress,
  verificationEmailsPerClient,
} from "./rate-limit.ts";
import {
  consumeToken,
  invalidateTokens,
  type TokenLookup,
  type TokenRecord,
} from "./tokens.ts";
import type { Reader } from "./types.ts";

/**
 * Confirming addresses. A new reader can read and pay at once; until they use
 * the link in their confirmation email, every page reminds them. The same link
 * kind confirms a new address after a change on the account page, and only
 * then does the account move to it.
 */

export type ResendOutcome =
  | { ok: true; sent: boolean }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

export type EmailLinkOutcome =
  | { ok: true; kind: "verified"; readerId: string }
  | { ok: true; kind: "changed"; readerId: string; email: string }
  | { ok: false; reason: "invalid" | "used" | "expired" | "email-taken" };

/** "Send the link again": a fresh link, and the older ones stop working. */
export function resendVerificationLink(
  db: Db,
  reader: Reader,
  client: string,
  nowSeconds: number,
): ResendOutcome {
  if (reader.emailVerified) return { ok: true, sent: false };

  const limit: RateLimitVerdict = takeRateLimitHits(
    db,
    [
      [verificationEmailsPerAddress, reader.email],
      [verificationEmailsPerClient, client],
    ],
    nowSeconds,
  );
  if (limit.limited) return { ok: false, reason: "rate-limited", ...limit };

  db.transaction(() => sendVerificationLink(db, reader, nowSeconds)).immediate();
  return { ok: true, sent: true };
}

/** Uses a confirmation link: the address it was sent to is now proven. */
export function confirmEmailLink(
  db: Db,
  token: string,
  nowSeconds: number,
): EmailLinkOutcome {
  return db
    .transaction((): EmailLinkOutcome => {
      const lookup: TokenLookup = consumeToken(
        db,
        token,
        ["verify-email", "change-email"],
        nowSeconds,
      );
      if (!lookup.ok) return lookup;

      const { record } = lookup;
      if (record.purpose === "change-email")
        return moveToNewAddress(db, record, nowSeconds);
      markEmailVerified(db, record.userId, nowSeconds);
      return { ok: true, kind: "verified", readerId: record.userId };
    })
    .immediate();
}

/**
 * Marks the reader's current address as proven, and welcomes them the first
 * time. Any link that reached their inbox proves it: confirmation, sign-in,
 * password reset.
 */
export function markEmailVerified(db: Db, readerId: string, nowSeconds: number): void {
  const row = db
    .prepare(
      `UPDATE user SET email_verified = 1 WHERE id = ? AND email_verified = 0
       RETURNING email`,
    )
    .get(readerId) as { email: string } | undefined;
  if (!row) return;

  sendWelcome(db, { id: readerId, email: row.email }, nowSeconds);
  logInfo("auth", `reader ${readerId} confirmed their address`);
}

function moveToNewAddress(
  db: Db,
  record: TokenRecord,
  nowSeconds: number,
): EmailLinkOutcome {
  const newEmail = record.newEmail ?? "";
  const taken = db
    .prepare("SELECT 1 FROM user WHERE email = ? AND id <> ?")
    .get(newEmail, record.userId);
  if (taken || newEmail === "") {
    logWarn("auth", `reader ${record.userId}'s new address was taken meanwhile`);
    return { ok: false, reason: "email-taken" };
  }

  const old = db.prepare("SELECT email FROM user WHERE id = ?").get(record.userId) as
    | { email: string }
    | undefined;
  if (!old) return { ok: false, reason: "invalid" };

  db.prepare("UPDATE user SET email = ? WHERE id = ?").run(newEmail, record.userId);
  // Links sent to the old address must not sign anyone in any more.
  invalidateTokens(db, record.userId);
  markEmailVerified(db, record.userId, nowSeconds);
  queueEmail(
    db,
    {
      to: old.email,
      template: "email-changed",
      data: { oldEmail: old.email, newEmail },
      idempotencyKey: `email-changed:${record.id}`,
    },
    nowSeconds,
  );

  logInfo("auth", `reader ${record.userId} moved to a new address`);
  return { ok: true, kind: "changed", readerId: record.userId, email: newEmail };
}
