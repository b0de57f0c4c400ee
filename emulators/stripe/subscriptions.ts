import type Stripe from "stripe";
import { z } from "zod";
import { currentPeriodEnd, periodEndFor } from "./billing-periods.ts";
import type { EmulatorContext } from "./context.ts";
import { requireCustomer } from "./customers.ts";
import { attachDiscount } from "./discounts.ts";
import { invalidParam, missingParam, noSuchObject, StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { invoiceSubscription } from "./invoices.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  integer,
  list,
  metadata,
  metadataUpdate,
  oneOf,
  pagination,
  parseParams,
  positiveInteger,
  readExpand,
  text,
} from "./params.ts";
import { chargeCardOnFile, emitChargeOutcome } from "./payments.ts";
import { requireRecurringPrice } from "./prices.ts";
import { readSubscriptions } from "./stale-reads.ts";
import {
  changeSubscription,
  endSubscription,
  type SubscriptionChange,
  scheduleCancellation,
} from "./subscription-changes.ts";
import { buildItem } from "./subscription-items.ts";
import type { ChargeOutcome } from "./test-cards.ts";
import type {
  StoredInvoice,
  StoredPrice,
  StoredPromotionCode,
  StoredSubscription,
} from "./types.ts";

export interface NewSubscription {
  customer: string;
  items: { price: StoredPrice; quantity: number }[];
  metadata?: Record<string, string>;
  description?: string | null;
  trialDays?: number;
  /** A Unix time; wins over `trialDays`. */
  trialEnd?: number;
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number;
  /**
   * How the first charge went when the reader paid on the spot (Checkout).
   * Without it the customer's card on file is charged.
   */
  firstCharge?: ChargeOutcome;
  /** A promotion code the reader typed into Checkout, already checked. */
  promotionCode?: StoredPromotionCode;
  /** The Checkout Session that started the subscription, if one did. */
  checkoutSession?: string;
}

export interface StartedSubscription {
  subscription: StoredSubscription;
  invoice: StoredInvoice;
  outcome: ChargeOutcome;
}

function trialEndOf(input: NewSubscription, now: number): number | null {
  if (input.trialEnd !== undefined) return input.trialEnd;
  return input.trialDays ? now + input.trialDays * 86_400 : null;
}

function buildSubscription(input: NewSubscription, now: number): StoredSubscription {
  const id = newId("sub");
  const trialEnd = trialEndOf(input, now);
  const first = input.items[0]?.price;
  const period = {
    start: now,
    end: trialEnd ?? (first ? periodEndFor(first, now) : now),
  };
  const items = input.items.map((item) =>
    buildItem(id, item.price, item.quantity, period, now),
  );

  return {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: trialEnd ?? now,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: "included" }, type: "flexible" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: null,
    },
    collection_method: "charge_automatically",
    created: now,
    currency: first?.currency ?? "usd",
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: input.description ?? null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    items: {
      object: "list",
      data: items,
      has_more: false,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: trialEnd ? "trialing" : "active",
    test_clock: null,
    transfer_data: null,
    trial_end: trialEnd,
    trial_settings: {
      end_behavior: {
        billing_cycle_anchor: null,
        missing_payment_method: "create_invoice",
      },
    },
    trial_start: trialEnd ? now : null,
  };
}

function scheduleInitialCancellation(
  sub: StoredSubscription,
  input: NewSubscription,
  now: number,
): void {
  if (input.cancelAtPeriodEnd) scheduleCancellation(sub, currentPeriodEnd(sub), now);
  else if (input.cancelAt !== undefined) scheduleCancellation(sub, input.cancelAt, now);
}

/**
 * Starts a subscription and bills its first period: $0 during a trial,
 * otherwise a charge (less any promotion code's discount) that leaves the
 * subscription `active`, or `incomplete` with an open invoice when it fails.
 * Checkout and the API share this; the caller then calls
 * `announceSubscriptionStart`, so that Checkout can send its own event first.
 */
export function startSubscription(
  ctx: EmulatorContext,
  input: NewSubscription,
): StartedSubscription {
  const now = ctx.store.now();
  const subscription = ctx.store.subscriptions.insert(buildSubscription(input, now));
  scheduleInitialCancellation(subscription, input, now);
  if (input.promotionCode) {
    attachDiscount(ctx, subscription, input.promotionCode, input.checkoutSession ?? null);
  }

  const outcome =
    subscription.status === "trialing"
      ? "succeeded"
      : (input.firstCharge ?? chargeCardOnFile(ctx, input.customer));
  const invoice = invoiceSubscription(ctx, subscription, {
    reason: "subscription_create",
    paid: outcome === "succeeded",
  });
  if (invoice.status !== "paid") subscription.status = "incomplete";
  return { subscription, invoice, outcome };
}

/** Emits `customer.subscription.created`, then the first invoice's payment events. */
export function announceSubscriptionStart(
  ctx: EmulatorContext,
  started: StartedSubscription,
): void {
  const { subscription, invoice, outcome } = started;
  emitEvent(ctx, "customer.subscription.created", presentSubscription(ctx, subscription));
  emitChargeOutcome(ctx, invoice, outcome);
}

export function requireSubscription(
  ctx: EmulatorContext,
  id: string,
  param = "id",
): StoredSubscription {
  const sub = ctx.store.subscriptions.get(id);
  if (!sub) throw noSuchObject("subscription", id, param);
  return sub;
}

/** A copy for a response or an event, with `expand[]` applied. */
export function presentSubscription(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  paths: readonly string[] = [],
): StoredSubscription {
  return expandFrom(ctx, sub, paths);
}

/** A read of one subscription, stale if a test armed it (stale-reads.ts). */
export function retrieveSubscription(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredSubscription {
  const sub = requireSubscription(ctx, id);
  const [read = sub] = readSubscriptions(ctx, [sub]);
  return presentSubscription(ctx, read, readExpand(raw));
}

const STATUS_FILTERS = [
  "active",
  "all",
  "canceled",
  "ended",
  "incomplete",
  "incomplete_expired",
  "past_due",
  "paused",
  "trialing",
  "unpaid",
] as const;

function matchesStatus(
  status: string,
  filter: (typeof STATUS_FILTERS)[number] | undefined,
): boolean {
  if (filter === "all") return true;
  if (filter === "ended") return status === "canceled" || status === "incomplete_expired";
  if (filter) return status === filter;
  return status !== "canceled" && status !== "incomplete_expired";
}

const listSchema = z.object({
  ...pagination,
  customer: text.optional(),
  price: text.optional(),
  status: oneOf(STATUS_FILTERS).optional(),
  expand,
});

export function listSubscriptions(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredSubscription> {
  const params = parseParams(listSchema, raw);
  const listed = ctx.store.subscriptions.newestFirst().filter((sub) => {
    if (params.customer && sub.customer !== params.customer) return false;
    return !params.price || sub.items.data.some((item) => item.price.id === params.price);
  });
  // A stale read shows the earlier status, so the status filter sees that one.
  const rows = readSubscriptions(ctx, listed).filter((sub) =>
    matchesStatus(sub.status, params.status),
  );
  return listPage(ctx, rows, params, "/v1/subscriptions", (sub) =>
    presentSubscription(ctx, sub),
  );
}

const createSchema = z.object({
  customer: text,
  items: list(z.object({ price: text, quantity: positiveInteger.optional() })),
  trial_period_days: integer
    .refine((days) => days >= 0 && days <= 730, {
      error: "Invalid integer: must be between 0 and 730",
    })
    .optional(),
  trial_end: z.union([z.literal("now"), integer]).optional(),
  metadata: metadata.optional(),
  description: text.optional(),
  cancel_at_period_end: flag.optional(),
  cancel_at: integer.optional(),
  expand,
});

type CreateParams = z.output<typeof createSchema>;

function requireFuture(ctx: EmulatorContext, time: number | undefined, param: string) {
  if (time !== undefined && time <= ctx.store.now()) {
    throw invalidParam(
      param,
      "Invalid timestamp: must be an integer Unix timestamp in the future.",
    );
  }
}

function checkCreateParams(ctx: EmulatorContext, params: CreateParams): void {
  requireCustomer(ctx, params.customer, "customer");
  if (params.items.length === 0) throw missingParam("items");
  if (params.trial_end !== undefined && params.trial_period_days !== undefined) {
    throw new StripeApiError(
      400,
      "You may only specify one of these parameters: trial_end, trial_period_days.",
      { param: "trial_end" },
    );
  }
  requireFuture(
    ctx,
    params.trial_end === "now" ? undefined : params.trial_end,
    "trial_end",
  );
  requireFuture(ctx, params.cancel_at, "cancel_at");
}

function resolveItems(
  ctx: EmulatorContext,
  items: CreateParams["items"],
): NewSubscription["items"] {
  const first = requireRecurringPrice(ctx, items[0]?.price ?? "", "items[0][price]");
  return items.map((item, index) => ({
    price: requireRecurringPrice(
      ctx,
      item.price,
      `items[${index}][price]`,
      first.currency,
    ),
    quantity: item.quantity ?? 1,
  }));
}

/** `POST /v1/subscriptions`: starts a subscription for a customer with a card on file. */
export function createSubscription(
  ctx: EmulatorContext,
  raw: unknown,
): StoredSubscription {
  const params = parseParams(createSchema, raw);
  checkCreateParams(ctx, params);

  const started = startSubscription(ctx, {
    customer: params.customer,
    items: resolveItems(ctx, params.items),
    metadata: params.metadata,
    description: params.description,
    trialDays: params.trial_period_days,
    trialEnd: params.trial_end === "now" ? undefined : params.trial_end,
    cancelAtPeriodEnd: params.cancel_at_period_end,
    cancelAt: params.cancel_at,
  });
  announceSubscriptionStart(ctx, started);
  return presentSubscription(ctx, started.subscription, params.expand);
}

const cancelAtParam = z.union([
  z.literal("").transform(() => null),
  integer,
  oneOf(["min_period_end", "max_period_end"]),
]);

const updateSchema = z.object({
  cancel_at_period_end: flag.optional(),
  cancel_at: cancelAtParam.optional(),
  items: list(
    z.object({
      id: text.optional(),
      price: text.optional(),
      quantity: positiveInteger.optional(),
      deleted: flag.optional(),
    }),
  ).optional(),
  metadata: metadataUpdate.optional(),
  description: text.optional(),
  proration_behavior: oneOf(["always_invoice", "create_prorations", "none"]).optional(),
  expand,
});

type ItemParam = NonNullable<z.output<typeof updateSchema>["items"]>[number];

function itemChanges(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  items: ItemParam[],
): SubscriptionChange {
  const change: Required<
    Pick<SubscriptionChange, "itemPrices" | "newItems" | "deletedItems">
  > = {
    itemPrices: [],
    newItems: [],
    deletedItems: [],
  };
  items.forEach((item, index) => {
    const param = `items[${index}][price]`;
    const price = item.price
      ? requireRecurringPrice(ctx, item.price, param, sub.currency)
      : undefined;
    if (item.id && item.deleted) {
      change.deletedItems.push(item.id);
    } else if (item.id && price) {
      change.itemPrices.push({ itemId: item.id, price, quantity: item.quantity });
    } else if (price) {
      change.newItems.push({ price, quantity: item.quantity ?? 1 });
    }
  });
  return change;
}

export function updateSubscription(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredSubscription {
  const sub = requireSubscription(ctx, id);
  const params = parseParams(updateSchema, raw);
  const cancelAt =
    typeof params.cancel_at === "string" ? currentPeriodEnd(sub) : params.cancel_at;

  changeSubscription(ctx, sub, {
    ...itemChanges(ctx, sub, params.items ?? []),
    cancelAtPeriodEnd: params.cancel_at_period_end,
    cancelAt,
    metadata: params.metadata,
    description: params.description,
  });
  return presentSubscription(ctx, sub, params.expand);
}

const cancelSchema = z.object({
  cancellation_details: z
    .object({
      comment: text.optional(),
      feedback: oneOf([
        "customer_service",
        "low_quality",
        "missing_features",
        "other",
        "switched_service",
        "too_complex",
        "too_expensive",
        "unused",
      ]).optional(),
    })
    .optional(),
  invoice_now: flag.optional(),
  prorate: flag.optional(),
  expand,
});

export function cancelSubscription(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredSubscription {
  const sub = requireSubscription(ctx, id);
  const params = parseParams(cancelSchema, raw);
  if (sub.status === "canceled") {
    throw new StripeApiError(400, "This subscription is already canceled.", {
      code: "resource_missing",
    });
  }

  endSubscription(ctx, sub, params.cancellation_details);
  return presentSubscription(ctx, sub, params.expand);
}
