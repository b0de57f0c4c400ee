import type Stripe from "stripe";

/**
 * Stripe objects for unit tests, holding only the fields billing reads. The
 * shapes follow the SDK's types for the pinned API version: period dates live
 * on subscription items, not on the subscription.
 */

export const productTierIds: Record<string, string> = {
  prod_spark: "spark",
  prod_core: "core",
  prod_lightning: "lightning",
};

/** Product tiers as the catalog would resolve them: other products grant nothing. */
export function tierOfProduct(productId: string): string | null {
  return productTierIds[productId] ?? null;
}

export function product(
  id: string,
  tier: string | null,
  overrides: Partial<Stripe.Product> = {},
): Stripe.Product {
  return {
    id,
    object: "product",
    active: true,
    name: id,
    description: null,
    metadata: tier ? { tier } : {},
    ...overrides,
  } as unknown as Stripe.Product;
}

export function price(
  id: string,
  productValue: string | Stripe.Product,
  overrides: Partial<Stripe.Price> & { interval?: string; intervalCount?: number } = {},
): Stripe.Price {
  const { interval = "month", intervalCount = 1, ...rest } = overrides;
  return {
    id,
    object: "price",
    active: true,
    currency: "usd",
    product: productValue,
    type: "recurring",
    unit_amount: 800,
    recurring: {
      interval,
      interval_count: intervalCount,
      usage_type: "licensed",
      meter: null,
      trial_period_days: null,
    },
    ...rest,
  } as unknown as Stripe.Price;
}

export function item(
  priceId: string,
  productId: string,
  overrides: { interval?: string; currentPeriodEnd?: number } = {},
): Stripe.SubscriptionItem {
  return {
    id: `si_${priceId}`,
    object: "subscription_item",
    price: price(priceId, productId, { interval: overrides.interval ?? "month" }),
    quantity: 1,
    current_period_start: 1_700_000_000,
    current_period_end: overrides.currentPeriodEnd ?? 1_702_592_000,
  } as unknown as Stripe.SubscriptionItem;
}

export function subscription(
  items: Stripe.SubscriptionItem[],
  overrides: Partial<Stripe.Subscription> = {},
): Stripe.Subscription {
  return {
    id: "sub_1",
    object: "subscription",
    customer: "cus_1",
    status: "active",
    cancel_at: null,
    cancel_at_period_end: false,
    created: 1_700_000_000,
    metadata: {},
    items: {
      object: "list",
      data: items,
      has_more: false,
      url: "/v1/subscription_items",
    },
    ...overrides,
  } as unknown as Stripe.Subscription;
}
