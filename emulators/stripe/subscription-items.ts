import { newId } from "./ids.ts";
import type { StoredPrice, StoredSubscriptionItem } from "./types.ts";

/** A subscription item billing `price` over the given period. */
export function buildItem(
  subscriptionId: string,
  price: StoredPrice,
  quantity: number,
  period: { start: number; end: number },
  now: number,
): StoredSubscriptionItem {
  return {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: now,
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata: {},
    price: structuredClone(price),
    quantity,
    subscription: subscriptionId,
    tax_rates: [],
  };
}
