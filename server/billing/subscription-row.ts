import type Stripe from "stripe";
import type { Tier } from "../../lib/config.ts";
import { isPaidTier, tierRank } from "../../lib/tiers.ts";

/**
 * How a Stripe subscription is stored: one row per subscription, carrying the
 * highest tier among its items. Items whose product grants no tier are ignored,
 * and a subscription with no such item is not Tierwall's to store.
 */

export interface StoredSubscription {
  id: string;
  customerId: string;
  status: string;
  tier: string;
  priceId: string;
  interval: string | null;
  /** Unix seconds; from the subscription item, since the subscription has none. */
  currentPeriodEnd: number | null;
  /** Unix seconds at which a scheduled cancellation takes effect. */
  cancelAt: number | null;
  cancelAtPeriodEnd: boolean;
  stripeCreated: number;
  /**
   * The subscription's latest invoice, absent before its first: a failed payment
   * is announced once per invoice, however often Stripe retries it.
   */
  latestInvoiceId?: string;
  /**
   * Unix seconds, Stripe's time: when the invoice a `past_due` subscription
   * owes was created, i.e. when the payment that fell behind was due. Absent
   * when the latest invoice was not expanded.
   */
  latestInvoiceCreated?: number;
}

/** Looks up the paid tier a product grants, or null. */
export type ProductTierLookup = (productId: string) => string | null;

export function mapSubscription(
  subscription: Stripe.Subscription,
  tierOfProduct: ProductTierLookup,
  tiers: readonly Tier[],
): StoredSubscription | null {
  const best = highestTierItem(subscription.items.data, tierOfProduct, tiers);
  if (!best) return null;

  const { item, tier } = best;
  const currentPeriodEnd = item.current_period_end ?? null;
  return {
    id: subscription.id,
    customerId: idOf(subscription.customer),
    status: subscription.status,
    tier,
    priceId: item.price.id,
    interval: item.price.recurring?.interval ?? null,
    currentPeriodEnd,
    cancelAt: cancellationTime(subscription, currentPeriodEnd),
    cancelAtPeriodEnd: subscription.cancel_at_period_end === true,
    stripeCreated: subscription.created,
    ...latestInvoice(subscription),
  };
}

function latestInvoice(
  subscription: Stripe.Subscription,
): Pick<StoredSubscription, "latestInvoiceId" | "latestInvoiceCreated"> {
  const invoice = subscription.latest_invoice;
  if (!invoice) return {};
  if (typeof invoice === "string") return { latestInvoiceId: invoice };
  return { latestInvoiceId: invoice.id, latestInvoiceCreated: invoice.created };
}

/** The item that grants the highest paid tier; on a tie, the first such item. */
export function highestTierItem(
  items: readonly Stripe.SubscriptionItem[],
  tierOfProduct: ProductTierLookup,
  tiers: readonly Tier[],
): { item: Stripe.SubscriptionItem; tier: string } | null {
  let best: { item: Stripe.SubscriptionItem; tier: string } | null = null;

  for (const item of items) {
    const tier = tierOfProduct(idOf(item.price.product));
    if (tier === null || !isPaidTier(tiers, tier)) continue;
    if (best && tierRank(tiers, tier) <= tierRank(tiers, best.tier)) continue;
    best = { item, tier };
  }
  return best;
}

/** Product ids named by a subscription's items, to resolve before mapping. */
export function subscriptionProductIds(subscription: Stripe.Subscription): string[] {
  return subscription.items.data.map((item) => idOf(item.price.product));
}

/**
 * When the reader fell behind on payment, as Stripe dates it: the creation of
 * the invoice a `past_due` subscription owes. The grace period counts from
 * there, so a webhook that arrives late, or a sync after an outage, gives no
 * extra days. The earliest moment seen is kept while the subscription stays
 * past due (a later period's invoice does not restart the grace); without
 * Stripe's date, the moment of the sync stands in for it.
 */
export function nextPastDueSince(
  previous: { status: string; pastDueSince: number | null } | undefined,
  row: Pick<StoredSubscription, "status" | "latestInvoiceCreated">,
  nowSeconds: number,
): number | null {
  if (row.status !== "past_due") return null;
  const reported = row.latestInvoiceCreated ?? nowSeconds;
  const kept = previous?.status === "past_due" ? previous.pastDueSince : null;
  return kept === null ? reported : Math.min(kept, reported);
}

/**
 * Stripe sets `cancel_at` for a cancellation at period end as well, but a
 * subscription read from an older account may carry only the flag.
 */
function cancellationTime(
  subscription: Stripe.Subscription,
  currentPeriodEnd: number | null,
): number | null {
  if (typeof subscription.cancel_at === "number") return subscription.cancel_at;
  return subscription.cancel_at_period_end === true ? currentPeriodEnd : null;
}

function idOf(value: string | { id: string }): string {
  return typeof value === "string" ? value : value.id;
}
