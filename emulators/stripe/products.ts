import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  list,
  mergeMetadata,
  metadata,
  metadataUpdate,
  pagination,
  parseParams,
  readExpand,
  text,
} from "./params.ts";
import type { StoredProduct } from "./types.ts";

export interface ProductFields {
  id?: string;
  name: string;
  description?: string;
  active?: boolean;
  metadata?: Record<string, string>;
  url?: string;
  unit_label?: string;
  statement_descriptor?: string;
}

/** A new product object; the caller stores it and emits events. */
export function buildProduct(fields: ProductFields, now: number): StoredProduct {
  return {
    id: fields.id ?? newId("prod", 14),
    object: "product",
    active: fields.active ?? true,
    created: now,
    default_price: null,
    description: fields.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: fields.metadata ?? {},
    name: fields.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: fields.statement_descriptor ?? null,
    tax_code: null,
    tax_details: null,
    unit_label: fields.unit_label ?? null,
    updated: now,
    url: fields.url ?? null,
  };
}

export function requireProduct(
  ctx: EmulatorContext,
  id: string,
  param = "id",
): StoredProduct {
  const product = ctx.store.products.get(id);
  if (!product) throw noSuchObject("product", id, param);
  return product;
}

const createSchema = z.object({
  id: text.optional(),
  name: text,
  description: text.optional(),
  active: flag.optional(),
  metadata: metadata.optional(),
  url: text.optional(),
  unit_label: text.optional(),
  statement_descriptor: text.optional(),
  expand,
});

export function createProduct(ctx: EmulatorContext, raw: unknown): StoredProduct {
  const { expand: _, ...fields } = parseParams(createSchema, raw);
  if (fields.id && ctx.store.products.get(fields.id)) {
    throw new StripeApiError(400, "Product already exists.", {
      param: "id",
      code: "resource_already_exists",
    });
  }

  const product = ctx.store.products.insert(buildProduct(fields, ctx.store.now()));
  emitEvent(ctx, "product.created", product);
  return product;
}

export function retrieveProduct(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredProduct {
  return expandFrom(ctx, requireProduct(ctx, id), readExpand(raw));
}

const updateSchema = z.object({
  name: text.optional(),
  description: text.optional(),
  active: flag.optional(),
  metadata: metadataUpdate.optional(),
  default_price: text.optional(),
  url: text.optional(),
  unit_label: text.optional(),
  statement_descriptor: text.optional(),
  expand,
});

export function updateProduct(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredProduct {
  const product = requireProduct(ctx, id);
  const {
    metadata: metadataChange,
    default_price,
    expand: _,
    ...changes
  } = parseParams(updateSchema, raw);
  if (default_price && ctx.store.prices.get(default_price)?.product !== id) {
    throw noSuchObject("price", default_price, "default_price");
  }

  const before = structuredClone(product);
  Object.assign(product, changes, {
    metadata: mergeMetadata(product.metadata, metadataChange),
    default_price: default_price ?? product.default_price,
    updated: ctx.store.now(),
  });
  emitEvent(ctx, "product.updated", product, changedAttributes(before, product));
  return product;
}

const listSchema = z.object({
  ...pagination,
  active: flag.optional(),
  ids: list(text).optional(),
  expand,
});

export function listProducts(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredProduct> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.products.newestFirst().filter((product) => {
    if (params.active !== undefined && product.active !== params.active) return false;
    return !params.ids || params.ids.includes(product.id);
  });
  return listPage(ctx, rows, params, "/v1/products");
}
