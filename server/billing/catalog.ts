import type Stripe from "stripe";
import type { Tier } from "../../lib/config.ts";
import { formatAmount } from "../../lib/money.ts";
import { isPaidTier } from "../../lib/tiers.ts";

/**
 * The catalog readers can buy from: Stripe's active recurring prices, grouped by
 * the paid tier their product names in `metadata.tier`. Prices of any other
 * product in the same Stripe account are left out, as are prices the pricing
 * page cannot describe (metered, tiered, or billed every N months).
 */

export type BillingInterval = "month" | "year";

export interface TierPrice {
  id: string;
  interval: BillingInterval;
  /** In the currency's minor unit, as Stripe sends it. */
  amount: number;
  currency: string;
  formatted: string;
}

export interface PricedTier {
  id: string;
  name: string;
  description: string;
  prices: TierPrice[];
}

export interface Catalog {
  /** Paid tiers that have at least one price, lowest first. */
  tiers: PricedTier[];
  /** Price id → tier id, for every price a reader may check out with. */
  priceTiers: Map<string, string>;
  /** Product id → paid tier id, or null for a product that grants no tier. */
  productTiers: Map<string, string | null>;
}

export function buildCatalog(
  prices: readonly Stripe.Price[],
  tiers: readonly Tier[],
): Catalog {
  const pricesByTier = new Map<string, TierPrice[]>();
  const priceTiers = new Map<string, string>();
  const productTiers = new Map<string, string | null>();

  for (const price of prices) {
    const product = typeof price.product === "object" ? price.product : null;
    if (product) productTiers.set(product.id, productTier(product, tiers));

    const tierId = product ? productTier(product, tiers) : null;
    const tierPrice = describePrice(price);
    if (!tierId || !tierPrice || !isSellableProduct(product)) continue;

    priceTiers.set(price.id, tierId);
    pricesByTier.set(tierId, [...(pricesByTier.get(tierId) ?? []), tierPrice]);
  }

  const pricedTiers = tiers
    .filter((tier) => pricesByTier.has(tier.id))
    .map((tier) => ({
      id: tier.id,
      name: tier.name,
      description: tier.description,
      prices: (pricesByTier.get(tier.id) ?? []).sort(comparePrices),
    }));
  return { tiers: pricedTiers, priceTiers, productTiers };
}

/** The paid tier a product grants through `metadata.tier`, or null. */
export function productTier(
  product: Stripe.Product | Stripe.DeletedProduct,
  tiers: readonly Tier[],
): string | null {
  if (product.deleted) return null;
  const tierId = product.metadata?.tier?.trim();
  return tierId && isPaidTier(tiers, tierId) ? tierId : null;
}

/** A price as the pricing page shows it, or null when it cannot be sold there. */
export function describePrice(price: Stripe.Price): TierPrice | null {
  const recurring = price.recurring;
  if (!price.active || price.type !== "recurring" || !recurring) return null;
  if (recurring.interval_count !== 1 || recurring.usage_type === "metered") return null;
  if (!isBillingInterval(recurring.interval)) return null;
  if (typeof price.unit_amount !== "number") return null;

  return {
    id: price.id,
    interval: recurring.interval,
    amount: price.unit_amount,
    currency: price.currency,
    formatted: formatAmount(price.unit_amount, price.currency),
  };
}

function isBillingInterval(interval: string): interval is BillingInterval {
  return interval === "month" || interval === "year";
}

function isSellableProduct(
  product: Stripe.Product | Stripe.DeletedProduct | null,
): boolean {
  return product !== null && !product.deleted && product.active;
}

const intervalOrder: Record<BillingInterval, number> = { month: 0, year: 1 };

function comparePrices(a: TierPrice, b: TierPrice): number {
  return (
    intervalOrder[a.interval] - intervalOrder[b.interval] ||
    a.currency.localeCompare(b.currency) ||
    a.amount - b.amount
  );
}
