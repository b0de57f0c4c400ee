import { randomBytes } from "node:crypto";
import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { listPage, paginate } from "./list.ts";
import {
  expand,
  mergeMetadata,
  metadata,
  metadataUpdate,
  pagination,
  parseParams,
  readExpand,
  text,
} from "./params.ts";
import type { StoredCustomer } from "./types.ts";

export interface CustomerFields {
  email?: string;
  name?: string;
  description?: string;
  phone?: string;
  metadata?: Record<string, string>;
}

export function buildCustomer(fields: CustomerFields, now: number): StoredCustomer {
  return {
    id: newId("cus", 14),
    object: "customer",
    address: null,
    balance: 0,
    created: now,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: fields.description ?? null,
    discount: null,
    email: fields.email ?? null,
    invoice_prefix: randomBytes(4).toString("hex").toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: fields.metadata ?? {},
    name: fields.name ?? null,
    next_invoice_sequence: 1,
    phone: fields.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export function requireCustomer(
  ctx: EmulatorContext,
  id: string,
  param = "id",
): StoredCustomer {
  const customer = ctx.store.customers.get(id);
  if (!customer) throw noSuchObject("customer", id, param);
  return customer;
}

/** Stores a customer and emits `customer.created`. */
export function insertCustomer(
  ctx: EmulatorContext,
  fields: CustomerFields,
): StoredCustomer {
  const customer = ctx.store.customers.insert(buildCustomer(fields, ctx.store.now()));
  emitEvent(ctx, "customer.created", customer);
  return customer;
}

/** Expands a customer; `subscriptions` is included on request, as on Stripe. */
function presentCustomer(
  ctx: EmulatorContext,
  customer: StoredCustomer,
  paths: string[],
): StoredCustomer {
  if (!paths.some((path) => path.split(".")[0] === "subscriptions")) {
    return expandFrom(ctx, customer, paths);
  }
  const subscriptions = ctx.store.subscriptions
    .newestFirst()
    .filter((sub) => sub.customer === customer.id && sub.status !== "canceled");
  const url = `/v1/customers/${customer.id}/subscriptions`;
  const withList = {
    ...customer,
    subscriptions: paginate(subscriptions, { limit: 100 }, url),
  };
  return expandFrom(ctx, withList as StoredCustomer, paths);
}

const fieldsSchema = {
  email: text.optional(),
  name: text.optional(),
  description: text.optional(),
  phone: text.optional(),
  expand,
};

export function createCustomer(ctx: EmulatorContext, raw: unknown): StoredCustomer {
  const schema = z.object({ ...fieldsSchema, metadata: metadata.optional() });
  const { expand: paths = [], ...fields } = parseParams(schema, raw);
  return presentCustomer(ctx, insertCustomer(ctx, fields), paths);
}

export function retrieveCustomer(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCustomer {
  return presentCustomer(ctx, requireCustomer(ctx, id), readExpand(raw));
}

export function updateCustomer(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCustomer {
  const customer = requireCustomer(ctx, id);
  const schema = z.object({ ...fieldsSchema, metadata: metadataUpdate.optional() });
  const { expand: paths = [], metadata: change, ...fields } = parseParams(schema, raw);

  const before = structuredClone(customer);
  Object.assign(customer, fields, { metadata: mergeMetadata(customer.metadata, change) });
  emitEvent(ctx, "customer.updated", customer, changedAttributes(before, customer));
  return presentCustomer(ctx, customer, paths);
}

const listSchema = z.object({ ...pagination, email: text.optional(), expand });

export function listCustomers(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredCustomer> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.customers
    .newestFirst()
    .filter((customer) => !params.email || customer.email === params.email);
  return listPage(ctx, rows, params, "/v1/customers");
}

/*
 * Search understands the clauses Tierwall needs: `email:'…'`, `name:'…'` and
 * `metadata['key']:'…'`, joined by AND. Anything else is refused, so a query
 * the emulator would silently misread cannot pass a test.
 */
const CLAUSE = /^(email|name|metadata\['([^']+)'\]):'((?:[^'\\]|\\.)*)'$/;

type Clause = (customer: StoredCustomer) => boolean;

function parseClause(clause: string): Clause {
  const match = CLAUSE.exec(clause.trim());
  if (!match) {
    throw new StripeApiError(400, `The emulator cannot search for: ${clause}`, {
      param: "query",
    });
  }
  const [, field, metadataKey, quoted = ""] = match;
  const value = quoted.replace(/\\(.)/g, "$1");
  if (metadataKey) return (customer) => customer.metadata[metadataKey] === value;
  if (field === "email") return (customer) => customer.email === value;
  return (customer) => customer.name === value;
}

const searchSchema = z.object({
  query: text,
  limit: pagination.limit,
  page: text.regex(/^\d+$/, { error: "Invalid page" }).optional(),
  expand,
});

/** Search pages are numbered by offset; `next_page` is the token for the next one. */
export function searchCustomers(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiSearchResult<StoredCustomer> {
  const params = parseParams(searchSchema, raw);
  const clauses = params.query.split(/\s+AND\s+/i).map(parseClause);
  const rows = ctx.store.customers
    .newestFirst()
    .filter((customer) => clauses.every((matches) => matches(customer)));
  const offset = Number(params.page ?? 0);
  const end = offset + (params.limit ?? 10);

  return expandFrom(
    ctx,
    {
      object: "search_result",
      data: rows.slice(offset, end),
      has_more: end < rows.length,
      next_page: end < rows.length ? String(end) : null,
      url: "/v1/customers/search",
    },
    params.expand,
  );
}
