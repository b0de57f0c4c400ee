import type Stripe from "stripe";
import { isTerminalStatus } from "../../lib/access.ts";
import { isStripeNotFound, isStripeUnreachable } from "../billing/failures.ts";
import { useStripe } from "../billing/stripe-client.ts";
import type { Db } from "../db/database.ts";
import { logError, logInfo } from "../log.ts";
import { refusal, type SettingsOutcome } from "./account-settings.ts";
import { checkCurrentPassword } from "./accounts.ts";
import type { Reader } from "./types.ts";

/**
 * Deleting an account. Stripe would go on charging a reader whose account is
 * gone, so every subscription still running is canceled in Stripe first; only
 * when all of those calls succeed is the reader deleted, with their sessions,
 * stored subscriptions, grants, feed address and links (the foreign keys
 * cascade). If Stripe cannot be reached, nothing is deleted and the reader can
 * try again. The Stripe customer stays, with its invoices, for the accounts.
 */

export type DeletionOutcome =
  | { ok: true; canceled: number }
  | Exclude<SettingsOutcome, { ok: true }>
  | { ok: false; reason: "billing-unavailable" | "billing-failed" };

export async function deleteAccount(
  db: Db,
  reader: Reader,
  password: string,
  client: string,
  nowSeconds: number,
  stripe: () => Stripe = useStripe,
): Promise<DeletionOutcome> {
  const check = await checkCurrentPassword(db, reader, password, client, nowSeconds);
  if (!check.ok) return refusal(check);

  let canceled = 0;
  try {
    for (const customerId of customersOf(db, reader.id)) {
      canceled += await cancelLiveSubscriptions(stripe(), customerId);
    }
  } catch (error) {
    logError(
      "billing",
      `reader ${reader.id}'s subscriptions could not be canceled`,
      error,
    );
    const unavailable = isStripeUnreachable(error);
    return { ok: false, reason: unavailable ? "billing-unavailable" : "billing-failed" };
  }

  db.transaction(() => {
    // Mail not yet sent to the reader (a confirmation link, say) goes with them.
    db.prepare(
      `DELETE FROM outbox WHERE status = 'pending' AND to_address IN (
         SELECT email FROM user WHERE id = ?
         UNION SELECT new_email FROM auth_token WHERE user_id = ? AND new_email IS NOT NULL
       )`,
    ).run(reader.id, reader.id);
    db.prepare("DELETE FROM user WHERE id = ?").run(reader.id);
  }).immediate();
  logInfo("auth", `reader ${reader.id} deleted their account (${canceled} canceled)`);
  return { ok: true, canceled };
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

/** Cancels, at once, each of the customer's subscriptions that has not ended. */
async function cancelLiveSubscriptions(
  stripe: Stripe,
  customerId: string,
): Promise<number> {
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
    if (isStripeNotFound(error)) return 0;
    throw error;
  }

  for (const id of live) {
    await stripe.subscriptions.cancel(
      id,
      {},
      { idempotencyKey: `tierwall-delete-${id}` },
    );
  }
  return live.length;
}
