import type Stripe from "stripe";
import { isTerminalStatus } from "../../lib/access.ts";
import tierwall from "../../tierwall.config.ts";
import { type Db, useDb } from "../db/database.ts";
import { billingEmails, type StoredState } from "../email/billing-emails.ts";
import { queueEmail } from "../email/outbox.ts";
import { logWarn } from "../log.ts";
import { pastDueGraceDays } from "./grace.ts";
import { resolveProductTiers } from "./pricing.ts";
import { KeyedQueue } from "./queue.ts";
import { useStripe } from "./stripe-client.ts";
import {
  mapSubscription,
  nextPastDueSince,
  type StoredSubscription,
  subscriptionProductIds,
} from "./subscription-row.ts";

/**
 * Keeps the stored subscriptions of one Stripe customer equal to what Stripe
 * reports now. Webhooks and the checkout return both call it: every event is
 * only a reason to look again, so duplicates, delays and any order of arrival
 * end in the same rows.
 *
 * It runs in two halves: fetching from Stripe (async), then applying the result
 * in one synchronous better-sqlite3 transaction, which no other request can
 * interleave with.
 */

export interface CustomerSnapshot {
  customerId: string;
  /** The customer's subscriptions that grant a tier, mapped for storage. */
  subscriptions: StoredSubscription[];
  /** The user id Checkout wrote into the subscriptions' metadata, if any. */
  userIdHint: string | null;
}

export interface SubscriptionChange {
  subscriptionId: string;
  tier: string;
  /** null when the subscription was not stored before. */
  from: string | null;
  to: string;
}

export type SyncResult =
  | { kind: "unknown-customer"; customerId: string }
  | {
      kind: "synced";
      customerId: string;
      userId: string;
      stored: number;
      removed: number;
      changes: SubscriptionChange[];
    };

export function syncCustomerSubscriptions(
  customerId: string,
  db: Db = useDb(),
): Promise<SyncResult> {
  return syncCustomerWith(customerId, db, (snapshot) =>
    applyCustomerSnapshot(db, snapshot),
  );
}

/**
 * Fetches the customer's subscriptions, then runs `apply` on them inside one
 * transaction. Syncs of one customer run one after another: two overlapping
 * syncs could otherwise store the older of their two fetches last.
 */
export function syncCustomerWith<T>(
  customerId: string,
  db: Db,
  apply: (snapshot: CustomerSnapshot) => T,
): Promise<T> {
  return customerQueue.run(
    customerId,
    async () => {
      const snapshot = await fetchCustomerSnapshot(customerId);
      return db.transaction(() => apply(snapshot)).immediate();
    },
    db,
  );
}

export async function fetchCustomerSnapshot(
  customerId: string,
  stripe: Stripe = useStripe(),
): Promise<CustomerSnapshot> {
  const subscriptions = await stripe.subscriptions
    .list({
      customer: customerId,
      status: "all",
      // The owed invoice's date anchors a past-due grace period.
      expand: ["data.latest_invoice"],
      limit: 100,
    })
    .autoPagingToArray({ limit: 10_000 });

  const productTiers = await resolveProductTiers(
    subscriptions.flatMap(subscriptionProductIds),
  );
  const tierOfProduct = (id: string) => productTiers.get(id) ?? null;
  const rows = subscriptions
    .map((subscription) => mapSubscription(subscription, tierOfProduct, tierwall.tiers))
    .filter((row): row is StoredSubscription => row !== null);

  const userIdHint =
    subscriptions.map((s) => s.metadata?.user_id?.trim()).find((id) => !!id) ?? null;
  return { customerId, subscriptions: rows, userIdHint };
}

/**
 * Writes a snapshot, and queues the emails its changes call for (a
 * subscription started, a plan changed, a payment failed…) in the same write.
 * Call it inside a transaction; a customer that belongs to no reader is left
 * alone.
 */
export function applyCustomerSnapshot(
  db: Db,
  snapshot: CustomerSnapshot,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SyncResult {
  const { customerId } = snapshot;
  const userId = findCustomerOwner(db, snapshot);
  if (!userId) return { kind: "unknown-customer", customerId };

  const previous = readStoredRows(db, customerId);
  const changes: SubscriptionChange[] = [];
  for (const row of snapshot.subscriptions) {
    const before = previous.get(row.id);
    if (before && reopensTerminal(before.status, row.status)) {
      logWarn(
        "billing",
        `subscription ${row.id} is stored ${before.status}; Stripe answered ${row.status}, which cannot follow it, so the stored row is kept`,
      );
      continue;
    }
    const pastDueSince = nextPastDueSince(before, row, nowSeconds);
    upsertSubscription(db, userId, row, pastDueSince, nowSeconds);
    queueBillingEmails(db, userId, before, row, pastDueSince, nowSeconds);
    if (before?.status !== row.status) {
      changes.push({
        subscriptionId: row.id,
        tier: row.tier,
        from: before?.status ?? null,
        to: row.status,
      });
    }
  }

  const removed = removeUnlisted(db, customerId, snapshot.subscriptions);
  const stored = snapshot.subscriptions.length;
  return { kind: "synced", customerId, userId, stored, removed, changes };
}

/**
 * Stripe never moves a subscription out of `canceled` or `incomplete_expired`.
 * An answer that does (a stale read, a replayed response) is not applied.
 */
export function reopensTerminal(stored: string, reported: string): boolean {
  return isTerminalStatus(stored) && !isTerminalStatus(reported);
}

/**
 * The reader a customer belongs to: the one whose `stripe_customer_id` it is,
 * else the user named in the subscriptions' metadata, who is then linked to the
 * customer if they have none yet.
 */
function findCustomerOwner(db: Db, snapshot: CustomerSnapshot): string | null {
  const owner = db
    .prepare("SELECT id FROM user WHERE stripe_customer_id = ?")
    .get(snapshot.customerId) as { id: string } | undefined;
  if (owner) return owner.id;
  if (!snapshot.userIdHint) return null;

  const user = db
    .prepare("SELECT id, stripe_customer_id FROM user WHERE id = ?")
    .get(snapshot.userIdHint) as
    | { id: string; stripe_customer_id: string | null }
    | undefined;
  if (!user) return null;

  if (user.stripe_customer_id === null) {
    db.prepare(
      "UPDATE user SET stripe_customer_id = ? WHERE id = ? AND stripe_customer_id IS NULL",
    ).run(snapshot.customerId, user.id);
  } else {
    // The reader paid through a second customer; their access should not depend on which.
    logWarn(
      "billing",
      `customer ${snapshot.customerId} names user ${user.id}, whose billing account is ${user.stripe_customer_id}; storing its subscriptions for that user`,
    );
  }
  return user.id;
}

type StoredRow = StoredState & { pastDueSince: number | null };

function readStoredRows(db: Db, customerId: string): Map<string, StoredRow> {
  const rows = db
    .prepare(
      `SELECT id, status, tier, cancel_at, latest_invoice_id, updated_at, past_due_since
         FROM subscription WHERE customer_id = ?`,
    )
    .all(customerId) as {
    id: string;
    status: string;
    tier: string;
    cancel_at: number | null;
    latest_invoice_id: string | null;
    updated_at: number;
    past_due_since: number | null;
  }[];
  return new Map(
    rows.map((row) => [
      row.id,
      {
        status: row.status,
        tier: row.tier,
        cancelAt: row.cancel_at,
        latestInvoiceId: row.latest_invoice_id,
        updatedAt: row.updated_at,
        pastDueSince: row.past_due_since,
      },
    ]),
  );
}

/**
 * Queues, in the sync's transaction, the emails this subscription's change
 * calls for (billing-emails.ts), to the reader's address.
 */
function queueBillingEmails(
  db: Db,
  userId: string,
  before: StoredRow | undefined,
  row: StoredSubscription,
  pastDueSince: number | null,
  nowSeconds: number,
): void {
  const reader = db.prepare("SELECT email FROM user WHERE id = ?").get(userId) as
    | { email: string }
    | undefined;
  if (!reader) return;

  const emails = billingEmails(before, row, {
    to: reader.email,
    tierName: (id) => tierwall.tiers.find((tier) => tier.id === id)?.name ?? id,
    graceDays: pastDueGraceDays(),
    pastDueSince,
  });
  for (const email of emails) queueEmail(db, email, nowSeconds);
}

function upsertSubscription(
  db: Db,
  userId: string,
  row: StoredSubscription,
  pastDueSince: number | null,
  nowSeconds: number,
): void {
  db.prepare(
    `INSERT INTO subscription (
       id, user_id, customer_id, status, tier, price_id, billing_interval,
       current_period_end, cancel_at, cancel_at_period_end, past_due_since,
       stripe_created, latest_invoice_id, updated_at
     ) VALUES (
       @id, @userId, @customerId, @status, @tier, @priceId, @interval,
       @currentPeriodEnd, @cancelAt, @cancelAtPeriodEnd, @pastDueSince,
       @stripeCreated, @latestInvoiceId, @now
     )
     ON CONFLICT(id) DO UPDATE SET
       user_id = excluded.user_id,
       customer_id = excluded.customer_id,
       status = excluded.status,
       tier = excluded.tier,
       price_id = excluded.price_id,
       billing_interval = excluded.billing_interval,
       current_period_end = excluded.current_period_end,
       cancel_at = excluded.cancel_at,
       cancel_at_period_end = excluded.cancel_at_period_end,
       past_due_since = excluded.past_due_since,
       stripe_created = excluded.stripe_created,
       latest_invoice_id = excluded.latest_invoice_id,
       updated_at = excluded.updated_at`,
  ).run({
    ...row,
    latestInvoiceId: row.latestInvoiceId ?? null,
    userId,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd ? 1 : 0,
    pastDueSince,
    now: nowSeconds,
  });
}

/**
 * Rows of this customer that Stripe no longer lists as granting a tier: moved
 * to another product, or gone. Stripe keeps listing canceled subscriptions, so
 * a cancellation arrives as a status, not as a removal.
 */
function removeUnlisted(
  db: Db,
  customerId: string,
  listed: readonly StoredSubscription[],
): number {
  const keep = JSON.stringify(listed.map((row) => row.id));
  return db
    .prepare(
      `DELETE FROM subscription
        WHERE customer_id = ? AND id NOT IN (SELECT value FROM json_each(?))`,
    )
    .run(customerId, keep).changes;
}

const customerQueue = new KeyedQueue("sync");
