import type { Tier } from "./config.ts";
import { freeTier, higherTier, isPaidTier } from "./tiers.ts";

/**
 * Access rules: which of a reader's subscriptions grant their tier right now.
 *
 * | Stripe status                         | access                              |
 * | ------------------------------------- | ----------------------------------- |
 * | active, trialing                      | yes (until a scheduled cancel ends) |
 * | past_due                              | yes, for the configured grace       |
 * | incomplete, unpaid, canceled, paused… | no                                  |
 */

export interface SubscriptionAccess {
  /** The highest tier among the subscription's items. */
  tier: string;
  status: string;
  /** Unix seconds at which a scheduled cancellation takes effect, if any. */
  cancelAt: number | null;
  /** Unix seconds at which this subscription was first seen `past_due`. */
  pastDueSince: number | null;
}

export interface Complimentary {
  tier: string;
  /** Unix seconds; null means no end date. */
  until: number | null;
}

export type AccessState = "active" | "grace" | "none";

export function subscriptionAccess(
  sub: SubscriptionAccess,
  nowSeconds: number,
  graceDays: number,
): AccessState {
  if (sub.cancelAt !== null && sub.cancelAt <= nowSeconds) return "none";

  switch (sub.status) {
    case "active":
    case "trialing":
      return "active";
    case "past_due": {
      const since = sub.pastDueSince ?? nowSeconds;
      return nowSeconds < since + graceDays * 86_400 ? "grace" : "none";
    }
    default:
      return "none";
  }
}

/**
 * The reader's effective tier: the highest tier among the subscriptions (and any
 * complimentary grant) that give access now, or the free tier.
 */
export function resolveEffectiveTier(
  tiers: readonly Tier[],
  subscriptions: readonly SubscriptionAccess[],
  nowSeconds: number,
  graceDays: number,
  complimentary: Complimentary | null = null,
): string {
  let tier = freeTier(tiers).id;

  for (const sub of subscriptions) {
    if (!isPaidTier(tiers, sub.tier)) continue;
    if (subscriptionAccess(sub, nowSeconds, graceDays) === "none") continue;
    tier = higherTier(tiers, tier, sub.tier);
  }

  const compActive =
    complimentary !== null &&
    isPaidTier(tiers, complimentary.tier) &&
    (complimentary.until === null || complimentary.until > nowSeconds);
  if (compActive) tier = higherTier(tiers, tier, complimentary.tier);

  return tier;
}

/** Statuses after which Stripe never moves a subscription again. */
export function isTerminalStatus(status: string): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

/**
 * Statuses that count as "already subscribed" when a reader starts a checkout:
 * those the Billing Portal, where such a reader is sent, can bring back to
 * active (a card to update, an invoice to pay, a pause to resume). An
 * `incomplete` first payment cannot be finished there, so it does not count.
 */
export function isLiveStatus(status: string): boolean {
  return ["active", "trialing", "past_due", "unpaid", "paused"].includes(status);
}
