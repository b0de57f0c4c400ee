import type { Db } from "../db/database.ts";
import { logInfo } from "../log.ts";
import { sendSignInLink } from "./email-links.ts";
import { type LinkRequestOutcome, requestLinkByAddress } from "./link-requests.ts";
import { signInLinksPerAddress, signInLinksPerClient } from "./rate-limit.ts";
import { consumeToken } from "./tokens.ts";
import { markEmailVerified } from "./verification.ts";

/**
 * Signing in without a password: the reader asks for a link, and the link
 * signs them in once, within 15 minutes. Asking answers the same whether or not
 * the address has an account, and an unknown address gets no email.
 */

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
  const { outcome, reader } = requestLinkByAddress(
    db,
    {
      email,
      purpose: "sign-in",
      limits: [
        [signInLinksPerAddress, email],
        [signInLinksPerClient, client],
      ],
      send: (found) => sendSignInLink(db, found, next, nowSeconds),
    },
    nowSeconds,
  );
  if (reader) logInfo("auth", `sign-in link sent to reader ${reader.id}`);
  return outcome;
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
