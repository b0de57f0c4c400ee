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

function latestInvoice(subscription: Stripe.Subscription): { latestInvoiceId?: string } {
  const invoice = subscription.latest_invoice;
  return invoice ? { latestInvoiceId: idOf(invoice) } : {};
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
 * When the reader first fell behind on payment. The grace period counts from
 * the first sync that saw `past_due`, so later syncs keep that moment.
 */
export function nextPastDueSince(
  previous: { status: string; pastDueSince: number | null } | undefined,
  status: string,
  nowSeconds: number,
): number | null {
  if (status !== "past_due") return null;
  if (previous?.status === "past_due" && previous.pastDueSince !== null) {
    return previous.pastDueSince;
  }
  return nowSeconds;
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
