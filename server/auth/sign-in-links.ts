import type { Db } from "../db/database.ts";
import { logInfo } from "../log.ts";
import { findReaderByEmail } from "./accounts.ts";
import { sendSignInLink } from "./email-links.ts";
import {
  signInLinksPerAddress,
  signInLinksPerClient,
  takeRateLimitHits,
} from "./rate-limit.ts";
import { consumeToken } from "./tokens.ts";
import { markEmailVerified } from "./verification.ts";

/**
 * Signing in without a password: the reader asks for a link, and the link
 * signs them in once, within 15 minutes. Asking answers the same whether or not
 * the address has an account, and an unknown address gets no email.
 */

export type LinkRequestOutcome =
  | { ok: true }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

export type LinkUseOutcome =
  | { ok: true; readerId: string }
  | { ok: false; reason: "invalid" | "used" | "expired" };

export function requestSignInLink(
  db: Db,
  email: string,
  next: string,
  client: string,
  nowSeconds: number,
): LinkRequestOutcome {
  const limit = takeRateLimitHits(
    db,
    [
      [signInLinksPerAddress, email],
      [signInLinksPerClient, client],
    ],
    nowSeconds,
  );
  if (limit.limited) return { ok: false, reason: "rate-limited", ...limit };

  const reader = findReaderByEmail(db, email);
  if (!reader) return { ok: true };

  db.transaction(() => sendSignInLink(db, reader, next, nowSeconds)).immediate();
  logInfo("auth", `sign-in link sent to reader ${reader.id}`);
  return { ok: true };
}

/** Uses the link; the caller then starts a session with a new id. */
export function redeemSignInLink(
  db: Db,
  token: string,
  nowSeconds: number,
): LinkUseOutcome {
  return db
    .transaction((): LinkUseOutcome => {
      const lookup = consumeToken(db, token, ["sign-in"], nowSeconds);
      if (!lookup.ok) return lookup;

      markEmailVerified(db, lookup.record.userId, nowSeconds);
      return { ok: true, readerId: lookup.record.userId };
    })
    .immediate();
}
