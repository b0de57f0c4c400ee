import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { invalidParam, missingParam, noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  integer,
  list,
  mergeMetadata,
  metadata,
  metadataUpdate,
  oneOf,
  pagination,
  parseParams,
  positiveInteger,
  readExpand,
  text,
} from "./params.ts";
import { buildProduct, requireProduct } from "./products.ts";
import { decimalString, type StoredPrice } from "./types.ts";

export interface PriceFields {
  product: string;
  currency: string;
  unit_amount: number;
  recurring?: { interval: Stripe.Price.Recurring.Interval; interval_count?: number };
  lookup_key?: string;
  nickname?: string;
  metadata?: Record<string, string>;
  active?: boolean;
  tax_behavior?: Stripe.Price.TaxBehavior;
}

/** A new price object; the caller stores it and emits events. */
export function buildPrice(fields: PriceFields, now: number): StoredPrice {
  const recurring: Stripe.Price.Recurring | null = fields.recurring
    ? {
        interval: fields.recurring.interval,
        interval_count: fields.recurring.interval_count ?? 1,
        meter: null,
        trial_period_days: null,
        usage_type: "licensed",
      }
    : null;

  return {
    id: newId("price"),
    object: "price",
    active: fields.active ?? true,
    billing_scheme: "per_unit",
    created: now,
    currency: fields.currency.toLowerCase(),
    custom_unit_amount: null,
    livemode: false,
    lookup_key: fields.lookup_key ?? null,
    metadata: fields.metadata ?? {},
    nickname: fields.nickname ?? null,
    product: fields.product,
    recurring,
    tax_behavior: fields.tax_behavior ?? "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    unit_amount: fields.unit_amount,
    unit_amount_decimal: decimalString(fields.unit_amount),
  };
}

export function requirePrice(
  ctx: EmulatorContext,
  id: string,
  param = "id",
): StoredPrice {
  const price = ctx.store.prices.get(id);
  if (!price) throw noSuchObject("price", id, param);
  return price;
}

/**
 * Lookup keys are unique. With `transfer_lookup_key` the key moves from the
 * price holding it; without, the request fails as it does on Stripe.
 */
function claimLookupKey(
  ctx: EmulatorContext,
  key: string,
  transfer: boolean | undefined,
): void {
  const holder = ctx.store.prices.all().find((price) => price.lookup_key === key);
  if (!holder) return;
  if (!transfer) {
    throw new StripeApiError(
      400,
      `A price (\`${holder.id}\`) already uses that lookup key.`,
      { param: "lookup_key" },
    );
  }

  const before = structuredClone(holder);
  holder.lookup_key = null;
  emitEvent(ctx, "price.updated", holder, changedAttributes(before, holder));
}

const taxBehavior = oneOf(["exclusive", "inclusive", "unspecified"]);

const createSchema = z.object({
  currency: text,
  unit_amount: integer,
  product: text.optional(),
  product_data: z.object({ name: text, metadata: metadata.optional() }).optional(),
  recurring: z
    .object({
      interval: oneOf(["day", "week", "month", "year"]),
      interval_count: positiveInteger.optional(),
    })
    .optional(),
  lookup_key: text.optional(),
  transfer_lookup_key: flag.optional(),
  nickname: text.optional(),
  metadata: metadata.optional(),
  active: flag.optional(),
  tax_behavior: taxBehavior.optional(),
  expand,
});

function resolveProductParam(
  ctx: EmulatorContext,
  params: z.output<typeof createSchema>,
): string {
  if (params.product) return requireProduct(ctx, params.product, "product").id;
  if (!params.product_data) throw missingParam("product");

  const product = buildProduct(params.product_data, ctx.store.now());
  ctx.store.products.insert(product);
  emitEvent(ctx, "product.created", product);
  return product.id;
}

export function createPrice(ctx: EmulatorContext, raw: unknown): StoredPrice {
  const params = parseParams(createSchema, raw);
  if (params.lookup_key) {
    claimLookupKey(ctx, params.lookup_key, params.transfer_lookup_key);
  }
  const product = resolveProductParam(ctx, params);

  const price = buildPrice({ ...params, product }, ctx.store.now());
  ctx.store.prices.insert(price);
  emitEvent(ctx, "price.created", price);
  return expandFrom(ctx, price, params.expand);
}

export function retrievePrice(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredPrice {
  return expandFrom(ctx, requirePrice(ctx, id), readExpand(raw));
}

const updateSchema = z.object({
  active: flag.optional(),
  nickname: text.optional(),
  metadata: metadataUpdate.optional(),
  lookup_key: text.optional(),
  transfer_lookup_key: flag.optional(),
  tax_behavior: taxBehavior.optional(),
  expand,
});

export function updatePrice(ctx: EmulatorContext, id: string, raw: unknown): StoredPrice {
  const price = requirePrice(ctx, id);
  const params = parseParams(updateSchema, raw);
  const {
    metadata: metadataChange,
    transfer_lookup_key,
    expand: paths,
    ...changes
  } = params;
  if (changes.lookup_key && changes.lookup_key !== price.lookup_key) {
    claimLookupKey(ctx, changes.lookup_key, transfer_lookup_key);
  }

  const before = structuredClone(price);
  Object.assign(price, changes, {
    metadata: mergeMetadata(price.metadata, metadataChange),
  });
  emitEvent(ctx, "price.updated", price, changedAttributes(before, price));
  return expandFrom(ctx, price, paths);
}

const listSchema = z.object({
  ...pagination,
  active: flag.optional(),
  type: oneOf(["one_time", "recurring"]).optional(),
  product: text.optional(),
  currency: text.optional(),
  lookup_keys: list(text).optional(),
  recurring: z.object({ interval: text.optional() }).optional(),
  expand,
});

function matchesPriceFilters(
  price: StoredPrice,
  params: z.output<typeof listSchema>,
): boolean {
  if (params.active !== undefined && price.active !== params.active) return false;
  if (params.type && price.type !== params.type) return false;
  if (params.product && price.product !== params.product) return false;
  if (params.currency && price.currency !== params.currency.toLowerCase()) return false;
  if (params.lookup_keys && !params.lookup_keys.includes(price.lookup_key ?? "")) {
    return false;
  }
  const interval = params.recurring?.interval;
  return !interval || price.recurring?.interval === interval;
}

export function listPrices(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredPrice> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.prices
    .newestFirst()
    .filter((p) => matchesPriceFilters(p, params));
  return listPage(ctx, rows, params, "/v1/prices");
}

/** Refuses prices a subscription cannot bill: one-time, archived or in another currency. */
export function requireRecurringPrice(
  ctx: EmulatorContext,
  priceId: string,
  param: string,
  currency?: string,
): StoredPrice {
  const price = requirePrice(ctx, priceId, param);
  if (!price.active) {
    throw invalidParam(
      param,
      "The price specified is inactive. This field only accepts active prices.",
    );
  }
  if (price.type !== "recurring") {
    throw invalidParam(
      param,
      "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
    );
  }
  if (currency && price.currency !== currency) {
    throw invalidParam(
      param,
      `The price's currency (${price.currency}) must match the subscription's (${currency}).`,
    );
  }
  return price;
}
