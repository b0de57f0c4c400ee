import { randomUUID } from "node:crypto";
import type Stripe from "stripe";
import { isTerminalStatus } from "../../lib/access.ts";
import { expireOpenSessions, readerQueue } from "../billing/checkout.ts";
import { isStripeNotFound, isStripeUnreachable } from "../billing/failures.ts";
import { useStripe } from "../billing/stripe-client.ts";
import type { Db } from "../db/database.ts";
import { logError, logInfo } from "../log.ts";
import { refusal, type SettingsOutcome } from "./account-settings.ts";
import { checkCurrentPassword } from "./accounts.ts";
import type { Reader } from "./types.ts";

/**
 * Deleting an account. Stripe would go on charging a reader whose account is
 * gone, so their Checkout pages still open are closed and every subscription
 * still running is canceled in Stripe first; only when all of those calls
 * succeed is the reader deleted, with their sessions,
 * stored subscriptions, grants, feed address and links (the foreign keys
 * cascade), and every email Tierwall holds for them. If a cancellation fails,
 * nothing is deleted; the subscriptions canceled before it stay canceled, and
 * trying again cancels the rest and deletes. The Stripe customer stays, with
 * its invoices, for the accounts.
 */

export interface BillingRefusal {
  ok: false;
  reason: "billing-unavailable" | "billing-failed";
  /** Subscriptions this attempt canceled before one could not be. */
  canceled: number;
  /** Subscriptions that were running when this attempt began. */
  live: number;
}

export type DeletionOutcome =
  | { ok: true; canceled: number }
  | Exclude<SettingsOutcome, { ok: true }>
  | BillingRefusal;

export async function deleteAccount(
  db: Db,
  reader: Reader,
  password: string,
  nowSeconds: number,
  stripe: () => Stripe = useStripe,
): Promise<DeletionOutcome> {
  const check = await checkCurrentPassword(db, reader, password, nowSeconds);
  if (!check.ok) return refusal(check);

  // IMPORTANT: in the queue that starts the reader's Checkouts, in every
  // process: a Checkout being started finishes first, so its page is among
  // those closed, and one asked for later finds no reader.
  return readerQueue.run(
    reader.id,
    () => closeBillingAndDelete(db, reader.id, stripe),
    db,
  );
}

async function closeBillingAndDelete(
  db: Db,
  readerId: string,
  stripe: () => Stripe,
): Promise<DeletionOutcome> {
  const canceled = await cancelEverySubscription(stripe, customersOf(db, readerId));
  if (!canceled.ok) {
    const { refusal: refused, error } = canceled;
    logError(
      "billing",
      `reader ${readerId}'s account was not deleted: a Stripe call failed ` +
        `(${refused.canceled} of ${refused.live} subscriptions canceled)`,
      error,
    );
    return refused;
  }

  db.transaction(() => {
    forgetReaderEmails(db, readerId);
    db.prepare("DELETE FROM user WHERE id = ?").run(readerId);
  }).immediate();
  logInfo(
    "auth",
    `reader ${readerId} deleted their account (${canceled.count} canceled)`,
  );
  return { ok: true, canceled: canceled.count };
}

type Cancellation =
  | { ok: true; count: number }
  | { ok: false; refusal: BillingRefusal; error: unknown };

/**
 * Closes every customer's open Checkout pages, so that none can start a
 * subscription after the list below is taken; then lists the live
 * subscriptions of every customer, and cancels them one by one, so that a
 * failure can say how many were canceled of how many.
 */
async function cancelEverySubscription(
  stripe: () => Stripe,
  customerIds: string[],
): Promise<Cancellation> {
  const live: string[] = [];
  let canceled = 0;
  try {
    for (const customerId of customerIds) await expireOpenSessions(customerId);
    for (const customerId of customerIds) {
      live.push(...(await listLiveSubscriptions(stripe(), customerId)));
    }
    // One key per attempt and subscription: the SDK's own retries of a call
    // are answered once, but a later attempt is a new request. Stripe keeps
    // the answer to a key for a day, errors included, so a key reused by the
    // next attempt would get the same error back instead of a cancellation.
    const attempt = randomUUID();
    for (const id of live) {
      await stripe().subscriptions.cancel(
        id,
        {},
        { idempotencyKey: `tierwall-delete-${id}-${attempt}` },
      );
      canceled++;
    }
  } catch (error) {
    const reason = isStripeUnreachable(error) ? "billing-unavailable" : "billing-failed";
    return {
      ok: false,
      refusal: { ok: false, reason, canceled, live: live.length },
      error,
    };
  }
  return { ok: true, count: canceled };
}

/** The reader's own customer, and any other their stored subscriptions name. */
function customersOf(db: Db, readerId: string): string[] {
  const rows = db
    .prepare(
      `SELECT stripe_customer_id AS id FROM user
        WHERE id = ? AND stripe_customer_id IS NOT NULL
       UNION
       SELECT customer_id AS id FROM subscription WHERE user_id = ?`,
    )
    .all(readerId, readerId) as { id: string }[];
  return rows.map((row) => row.id);
}

/** The ids of the customer's subscriptions that have not ended. */
async function listLiveSubscriptions(
  stripe: Stripe,
  customerId: string,
): Promise<string[]> {
  const live: string[] = [];
  try {
    const list = stripe.subscriptions.list({
      customer: customerId,
      status: "all",
      limit: 100,
    });
    for await (const subscription of list) {
      if (!isTerminalStatus(subscription.status)) live.push(subscription.id);
    }
  } catch (error) {
    // A customer Stripe does not know has nothing left to charge.
    if (isStripeNotFound(error)) return [];
    throw error;
  }
  return live;
}

/**
 * Deletes every outbox row that belongs to the reader, whatever its status:
 * mail to their address or to a new address they asked to move to (unless
 * another account holds it by now), and mail named after one of their links
 * or after them, wherever it went. Pending link emails hold live links, and
 * the rest is their personal data: none of it stays once they are gone.
 */
function forgetReaderEmails(db: Db, readerId: string): void {
  db.prepare(
    `DELETE FROM outbox
      WHERE to_address IN (
              SELECT email FROM user WHERE id = @reader
              UNION
              SELECT new_email FROM auth_token
               WHERE user_id = @reader AND new_email IS NOT NULL
                 AND new_email NOT IN (SELECT email FROM user WHERE id <> @reader))
         OR idempotency_key IN (
              SELECT purpose || ':' || id FROM auth_token WHERE user_id = @reader
              UNION
              SELECT 'email-changed:' || id FROM auth_token
               WHERE user_id = @reader AND purpose = 'change-email')
         OR idempotency_key = 'welcome:' || @reader`,
  ).run({ reader: readerId });
}
