import { buildPrice } from "./prices.ts";
import { buildProduct } from "./products.ts";
import type { Store } from "./store.ts";

/*
 * The catalog a fresh emulator starts with: one product per paid tier of the
 * example publication, mapped through `metadata.tier`, each with a monthly and
 * a yearly price. The sticker pack has no tier, so the server must ignore it.
 */

interface TierProduct {
  tier: string;
  name: string;
  description: string;
  monthly: number;
  yearly: number;
}

const TIER_PRODUCTS: TierProduct[] = [
  {
    tier: "spark",
    name: "Spark Stacker",
    description: "Every deep dive, plus the monthly reading list.",
    monthly: 500,
    yearly: 5000,
  },
  {
    tier: "core",
    name: "Core Stacker",
    description: "Everything in Spark, plus the runbooks and postmortem teardowns.",
    monthly: 1200,
    yearly: 12000,
  },
  {
    tier: "lightning",
    name: "Lightning Stacker",
    description: "Everything in Core, plus the quarterly field reports and source files.",
    monthly: 2500,
    yearly: 25000,
  },
];

function seedTierProduct(store: Store, entry: TierProduct): void {
  const now = store.now();
  const product = buildProduct(
    { name: entry.name, description: entry.description, metadata: { tier: entry.tier } },
    now,
  );
  const prices = (["month", "year"] as const).map((interval) =>
    buildPrice(
      {
        product: product.id,
        currency: "usd",
        unit_amount: interval === "month" ? entry.monthly : entry.yearly,
        recurring: { interval },
        lookup_key: `${entry.tier}_${interval === "month" ? "monthly" : "yearly"}`,
        nickname: interval === "month" ? "Monthly" : "Yearly",
      },
      now,
    ),
  );

  product.default_price = prices[0]?.id ?? null;
  store.products.insert(product);
  for (const price of prices) store.prices.insert(price);
}

function seedStickerPack(store: Store): void {
  const now = store.now();
  const product = buildProduct(
    { name: "Sticker pack", description: "Five vinyl stickers of the Stacker logo." },
    now,
  );
  const price = buildPrice(
    {
      product: product.id,
      currency: "usd",
      unit_amount: 800,
      lookup_key: "sticker_pack",
    },
    now,
  );
  product.default_price = price.id;
  store.products.insert(product);
  store.prices.insert(price);
}

/** Fills an empty store with the starting catalog. Emits no events. */
export function seedCatalog(store: Store): void {
  for (const entry of TIER_PRODUCTS) seedTierProduct(store, entry);
  seedStickerPack(store);
}
