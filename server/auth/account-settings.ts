import type Stripe from "stripe";
import { readStripeCustomerId } from "../billing/customers.ts";
import { useStripe } from "../billing/stripe-client.ts";
import type { Db } from "../db/database.ts";
import { logError, logInfo } from "../log.ts";
import { checkCurrentPassword, type SignInResult } from "./accounts.ts";
import { dropEmailedLinks, sendEmailChangeLink } from "./email-links.ts";
import { hashPassword } from "./password.ts";
import {
  takeRateLimitHits,
  verificationEmailsPerAddress,
  verificationEmailsPerClient,
} from "./rate-limit.ts";
import { deleteReaderSessions } from "./sessions.ts";
import type { Reader } from "./types.ts";

/**
 * Changes a signed-in reader makes on their account page. Each one asks for the
 * current password first, so a session left open on a shared computer cannot
 * take the account over.
 */

export type SettingsOutcome =
  | { ok: true }
  | { ok: false; reason: "wrong-password" | "same-email" | "same-password" }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

/**
 * Sets a new password, ends every session of the reader and makes every link
 * they were emailed dead; the caller signs this browser in again with a new
 * session id, so only it stays signed in. The same password again is refused
 * before anything is checked: it would change nothing but sign every other
 * device out.
 */
export async function changePassword(
  db: Db,
  reader: Reader,
  passwords: { current: string; next: string },
  nowSeconds: number,
): Promise<SettingsOutcome> {
  if (passwords.next === passwords.current) {
    return { ok: false, reason: "same-password" };
  }

  const check = await checkCurrentPassword(db, reader, passwords.current, nowSeconds);
  if (!check.ok) return refusal(check);

  const passwordHash = await hashPassword(passwords.next);
  db.transaction(() => {
    db.prepare("UPDATE user SET password_hash = ? WHERE id = ?").run(
      passwordHash,
      reader.id,
    );
    deleteReaderSessions(db, reader.id);
    dropEmailedLinks(db, reader.id);
  }).immediate();

  logInfo("auth", `reader ${reader.id} changed their password`);
  return { ok: true };
}

/**
 * Emails a confirmation link to the new address; the account moves there when
 * it is used. An address that belongs to another account gets nothing, and the
 * answer is the same, so the form cannot be used to find out who has an account.
 */
export async function requestEmailChange(
  db: Db,
  reader: Reader,
  change: { password: string; newEmail: string },
  client: string,
  nowSeconds: number,
): Promise<SettingsOutcome> {
  if (change.newEmail === reader.email) return { ok: false, reason: "same-email" };

  const check = await checkCurrentPassword(db, reader, change.password, nowSeconds);
  if (!check.ok) return refusal(check);

  const limit = takeRateLimitHits(
    db,
    [
      [verificationEmailsPerAddress, change.newEmail],
      [verificationEmailsPerClient, client],
    ],
    nowSeconds,
  );
  if (limit.limited) return { ok: false, reason: "rate-limited", ...limit };

  const taken = db.prepare("SELECT 1 FROM user WHERE email = ?").get(change.newEmail);
  if (taken) {
    logInfo("auth", `reader ${reader.id} asked to move to an address that is taken`);
    return { ok: true };
  }

  db.transaction(() =>
    sendEmailChangeLink(db, reader.id, change.newEmail, nowSeconds),
  ).immediate();
  logInfo("auth", `reader ${reader.id} asked to move to a new address`);
  return { ok: true };
}

/**
 * Gives the reader's Stripe customer their new address, so receipts and
 * Stripe's own emails follow the account. The move itself is done by then, so
 * a failure here is logged and left: `npm run stripe:sync` gives the customer
 * the reader's address later (see repairCustomerEmails).
 */
export async function copyEmailToStripe(
  db: Db,
  readerId: string,
  email: string,
  stripe: () => Stripe = useStripe,
): Promise<void> {
  const customerId = readStripeCustomerId(db, readerId);
  if (!customerId) return;
  try {
    await stripe().customers.update(customerId, { email });
  } catch (error) {
    logError(
      "billing",
      `reader ${readerId}'s new address did not reach Stripe (npm run stripe:sync repairs it)`,
      error,
    );
  }
}

/** A failed password check, as the account page answers it. */
export function refusal(
  check: Exclude<SignInResult, { ok: true }>,
): Exclude<SettingsOutcome, { ok: true }> {
  if (check.reason === "rate-limited") return check;
  return { ok: false, reason: "wrong-password" };
}
