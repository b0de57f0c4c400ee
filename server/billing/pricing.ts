import type Stripe from "stripe";
import tierwall from "../../tierwall.config.ts";
import { logError, logWarn } from "../log.ts";
import {
  buildCatalog,
  type Catalog,
  type PricedTier,
  productTier,
  type TierPrice,
} from "./catalog.ts";
import { useStripe } from "./stripe-client.ts";

/**
 * The pricing catalog and the tier each product grants, cached in memory in
 * each server process. `product.*` and `price.*` webhook events refresh them in
 * the process that receives the event; the TTL, the same for both, covers a
 * missed event and the other processes of a cluster. When Stripe cannot be
 * reached, a stale catalog is still served rather than no pricing at all.
 */

const ttlMs = 10 * 60_000;
/** A checkout naming an unknown price may refetch the catalog this often at most. */
const missRefreshMs = 30_000;

let cached: { catalog: Catalog; fetchedAt: number } | null = null;
/** Bumped whenever the catalog is known to be out of date. */
let generation = 0;
let inflight: { generation: number; promise: Promise<Catalog> } | null = null;
let lastMissRefresh = 0;

/**
 * Product id → paid tier id (or null), for products seen in prices or looked
 * up, with when that was read (ms).
 */
const productTiers = new Map<string, { tierId: string | null; readAt: number }>();

export type PricingResult = { kind: "ok"; tiers: PricedTier[] } | { kind: "unavailable" };

export type PriceLookup =
  | { kind: "found"; tierId: string; price: TierPrice }
  | { kind: "not-found" }
  | { kind: "unavailable" };

export async function loadPricing(): Promise<PricingResult> {
  const catalog = await loadCatalog();
  return catalog ? { kind: "ok", tiers: catalog.tiers } : { kind: "unavailable" };
}

/**
 * Drops what is cached and fetches the catalog again. Throws when Stripe cannot
 * be reached, so a webhook that asked for the refresh is retried.
 */
export function refreshPricing(): Promise<Catalog> {
  generation++;
  productTiers.clear();
  return fetchLatest();
}

/** The tier and price behind a price id, when it is one a reader may buy. */
export async function findCheckoutPrice(priceId: string): Promise<PriceLookup> {
  const catalog = await loadCatalog();
  if (!catalog) return { kind: "unavailable" };

  const found = lookupPrice(catalog, priceId);
  const mayRefresh = Date.now() - lastMissRefresh >= missRefreshMs;
  if (found.kind === "found" || !mayRefresh) return found;

  // A price created moments ago may not be cached yet: look once more, rarely,
  // so that made-up price ids cannot make every checkout refetch the catalog.
  lastMissRefresh = Date.now();
  const refreshed = await refreshPricing().catch(() => catalog);
  return lookupPrice(refreshed, priceId);
}

/**
 * The paid tier each product grants (null for none). Products not seen yet are
 * fetched from Stripe in one request; a failure throws.
 */
export async function resolveProductTiers(
  productIds: Iterable<string>,
): Promise<Map<string, string | null>> {
  const wanted = [...new Set(productIds)];
  const now = Date.now();
  const missing = wanted.filter((id) => {
    const known = productTiers.get(id);
    return !known || now - known.readAt >= ttlMs;
  });
  if (missing.length > 0) await lookUpProducts(missing);
  return new Map(wanted.map((id) => [id, productTiers.get(id)?.tierId ?? null]));
}

async function loadCatalog(): Promise<Catalog | null> {
  const fresh = cached && Date.now() - cached.fetchedAt < ttlMs;
  if (cached && fresh) return cached.catalog;

  try {
    return await fetchLatest();
  } catch (error) {
    if (cached) {
      logWarn("billing", `pricing refresh failed, serving the cached catalog: ${error}`);
      return cached.catalog;
    }
    logError("billing", "pricing is unavailable: Stripe could not be reached", error);
    return null;
  }
}

/** Joins a fetch already under way unless the catalog changed since it started. */
function fetchLatest(): Promise<Catalog> {
  if (inflight && inflight.generation === generation) return inflight.promise;

  const startedAt = generation;
  const promise = fetchCatalog()
    .then((catalog) => {
      if (startedAt === generation) cached = { catalog, fetchedAt: Date.now() };
      return catalog;
    })
    .finally(() => {
      if (inflight?.promise === promise) inflight = null;
    });
  inflight = { generation: startedAt, promise };
  return promise;
}

async function fetchCatalog(): Promise<Catalog> {
  const prices = await useStripe()
    .prices.list({
      active: true,
      type: "recurring",
      expand: ["data.product"],
      limit: 100,
    })
    .autoPagingToArray({ limit: 10_000 });

  const catalog = buildCatalog(prices, tierwall.tiers);
  const readAt = Date.now();
  for (const [productId, tierId] of catalog.productTiers) {
    productTiers.set(productId, { tierId, readAt });
  }
  return catalog;
}

async function lookUpProducts(ids: string[]): Promise<void> {
  const found: Stripe.Product[] = await useStripe()
    .products.list({ ids, limit: 100 })
    .autoPagingToArray({ limit: 10_000 });

  const readAt = Date.now();
  const tiers = new Map(found.map((p) => [p.id, productTier(p, tierwall.tiers)]));
  // A product Stripe no longer returns has been deleted: it grants nothing.
  for (const id of ids) productTiers.set(id, { tierId: tiers.get(id) ?? null, readAt });
}

function lookupPrice(catalog: Catalog, priceId: string): PriceLookup {
  const tierId = catalog.priceTiers.get(priceId);
  const tier = catalog.tiers.find((candidate) => candidate.id === tierId);
  const price = tier?.prices.find((candidate) => candidate.id === priceId);
  return tierId && price ? { kind: "found", tierId, price } : { kind: "not-found" };
}
