import type { Db } from "../db/database.ts";
import { logInfo } from "../log.ts";
import { findReaderById } from "./accounts.ts";
import { dropEmailedLinks, sendPasswordResetLink } from "./email-links.ts";
import { type LinkRequestOutcome, requestLinkByAddress } from "./link-requests.ts";
import { hashPassword } from "./password.ts";
import {
  clearRateLimit,
  passwordResetsPerAddress,
  passwordResetsPerClient,
  signInFailuresPerAddress,
} from "./rate-limit.ts";
import { deleteReaderSessions } from "./sessions.ts";
import type { LinkUseOutcome } from "./sign-in-links.ts";
import { consumeToken, findToken } from "./tokens.ts";
import { markEmailVerified } from "./verification.ts";

/**
 * Forgotten passwords. Asking for a reset answers the same whether or not the
 * address has an account; the emailed link works once, within an hour. Setting
 * the new password ends every session the reader has, wherever it is open, and
 * makes every other link the reader was emailed dead: if someone else knew the
 * old password, they are out, and a link they asked for with it (a move of the
 * account to their mailbox) no longer works.
 */

export function requestPasswordReset(
  db: Db,
  email: string,
  client: string,
  nowSeconds: number,
): LinkRequestOutcome {
  const { outcome, reader } = requestLinkByAddress(
    db,
    {
      email,
      purpose: "password-reset",
      limits: [
        [passwordResetsPerAddress, email],
        [passwordResetsPerClient, client],
      ],
      send: (found) => sendPasswordResetLink(db, found, nowSeconds),
    },
    nowSeconds,
  );
  if (reader) logInfo("auth", `password reset link sent to reader ${reader.id}`);
  return outcome;
}

/** Sets the new password; the caller then signs the reader in with a new session. */
export async function completePasswordReset(
  db: Db,
  token: string,
  newPassword: string,
  nowSeconds: number,
): Promise<LinkUseOutcome> {
  // A dead link is refused before the password is hashed, so that posting
  // made-up links costs the server nothing.
  const found = findToken(db, token, ["password-reset"], nowSeconds);
  if (!found.ok) return found;
  const passwordHash = await hashPassword(newPassword);

  const outcome = db
    .transaction((): LinkUseOutcome => {
      const lookup = consumeToken(db, token, ["password-reset"], nowSeconds);
      if (!lookup.ok) return lookup;

      const { userId } = lookup.record;
      db.prepare("UPDATE user SET password_hash = ? WHERE id = ?").run(
        passwordHash,
        userId,
      );
      deleteReaderSessions(db, userId);
      dropEmailedLinks(db, userId);
      markEmailVerified(db, userId, nowSeconds);
      return { ok: true, readerId: userId };
    })
    .immediate();
  if (!outcome.ok) return outcome;

  // The owner of the mailbox is back in: lift a lock that guessing caused.
  const reader = findReaderById(db, outcome.readerId);
  if (reader) clearRateLimit(db, signInFailuresPerAddress, reader.email);
  logInfo("auth", `reader ${outcome.readerId} reset their password`);
  return outcome;
}
