import type Stripe from "stripe";
import { type Db, useDb } from "../db/database.ts";
import type { BillingReader } from "./reader.ts";
import { useStripe } from "./stripe-client.ts";

/**
 * Each reader has at most one Stripe customer. Three layers keep it so when a
 * reader clicks "Subscribe" twice at once:
 * - within this process, concurrent calls for one reader share a promise;
 * - across processes, Stripe's idempotency key (derived from the user id)
 *   answers a repeated create with the same customer for 24 hours;
 * - the database link is written only if none is there yet, and read back,
 *   so whichever write landed first wins for everyone.
 */

const pending = new Map<string, Promise<string>>();

export function readStripeCustomerId(db: Db, userId: string): string | null {
  const row = db
    .prepare("SELECT stripe_customer_id FROM user WHERE id = ?")
    .get(userId) as { stripe_customer_id: string | null } | undefined;
  return row?.stripe_customer_id ?? null;
}

export function ensureStripeCustomer(
  reader: BillingReader,
  db: Db = useDb(),
  stripe: Stripe = useStripe(),
): Promise<string> {
  const existing = pending.get(reader.id);
  if (existing) return existing;

  const created = createCustomerOnce(reader, db, stripe).finally(() => {
    pending.delete(reader.id);
  });
  pending.set(reader.id, created);
  return created;
}

async function createCustomerOnce(
  reader: BillingReader,
  db: Db,
  stripe: Stripe,
): Promise<string> {
  const stored = readStripeCustomerId(db, reader.id);
  if (stored) return stored;

  const customer = await stripe.customers.create(
    { email: reader.email, metadata: { user_id: reader.id } },
    { idempotencyKey: `tierwall-customer-${reader.id}` },
  );
  db.prepare(
    "UPDATE user SET stripe_customer_id = ? WHERE id = ? AND stripe_customer_id IS NULL",
  ).run(customer.id, reader.id);

  const linked = readStripeCustomerId(db, reader.id);
  if (!linked) throw new Error(`user ${reader.id} vanished while linking a customer`);
  return linked;
}

/**
 * Gives the customer the reader's address when Stripe holds another one, as
 * after a move confirmed while Stripe could not be reached. Returns whether it
 * did; a customer deleted in Stripe is left alone.
 */
export async function alignCustomerEmail(
  stripe: Stripe,
  customerId: string,
  email: string,
): Promise<boolean> {
  const customer = await stripe.customers.retrieve(customerId);
  if (customer.deleted || customer.email === email) return false;

  await stripe.customers.update(customerId, { email });
  return true;
}
