import type Stripe from "stripe";
import { currentPeriodEnd, periodEndFor } from "./billing-periods.ts";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { invoiceSubscription } from "./invoices.ts";
import { mergeMetadata } from "./params.ts";
import { buildItem } from "./subscription-items.ts";
import type { StoredPrice, StoredSubscription } from "./types.ts";

/*
 * What a reader or the server can do to a running subscription: change its
 * plan, schedule or undo a cancellation, end it. The API (subscriptions.ts),
 * the billing portal (portal.ts) and the test clock (lifecycle.ts) share these.
 */

/**
 * Emits `customer.subscription.updated` with the previous values of what
 * changed since `before`. Like Stripe, a change that changes nothing sends none.
 */
export function emitSubscriptionUpdated(
  ctx: EmulatorContext,
  before: StoredSubscription,
  sub: StoredSubscription,
): void {
  const after = structuredClone(sub);
  const previous = changedAttributes(before, after);
  if (previous) emitEvent(ctx, "customer.subscription.updated", after, previous);
}

export interface SubscriptionChange {
  cancelAtPeriodEnd?: boolean;
  /** A Unix time, or null to remove a scheduled cancellation. */
  cancelAt?: number | null;
  /** Replace the price of the given item (no proration, as in the portal). */
  itemPrices?: { itemId: string; price: StoredPrice; quantity?: number }[];
  newItems?: { price: StoredPrice; quantity: number }[];
  deletedItems?: string[];
  metadata?: Record<string, string> | null;
  description?: string;
}

/** Sets when the subscription ends (null: it does not), as the API and portal do. */
export function scheduleCancellation(
  sub: StoredSubscription,
  cancelAt: number | null,
  now: number,
): void {
  const periodEnd = currentPeriodEnd(sub);
  sub.cancel_at = cancelAt;
  sub.cancel_at_period_end = cancelAt !== null && cancelAt === periodEnd;
  sub.canceled_at = cancelAt === null ? null : now;
  sub.cancellation_details = {
    ...(sub.cancellation_details ?? {
      comment: null,
      feedback: null,
      feedback_option: null,
    }),
    reason: cancelAt === null ? null : "cancellation_requested",
  };
}

/**
 * Moves every item to a new period starting now, as Stripe does when a plan
 * change alters the billing interval.
 */
function restartPeriod(sub: StoredSubscription, now: number): void {
  for (const item of sub.items.data) {
    item.current_period_start = now;
    item.current_period_end = periodEndFor(item.price, now);
  }
  sub.billing_cycle_anchor = now;
  if (sub.status === "trialing") {
    sub.status = "active";
    sub.trial_end = now;
  }
}

function changeItems(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  change: SubscriptionChange,
): boolean {
  const now = ctx.store.now();
  const before = sub.items.data.map((item) => item.price.recurring?.interval);
  const period = {
    start: sub.items.data[0]?.current_period_start ?? now,
    end: currentPeriodEnd(sub),
  };

  for (const { itemId, price, quantity } of change.itemPrices ?? []) {
    const item = sub.items.data.find((candidate) => candidate.id === itemId);
    if (!item) throw noSuchObject("subscription item", itemId, "items");
    item.price = structuredClone(price);
    if (quantity !== undefined) item.quantity = quantity;
  }
  for (const { price, quantity } of change.newItems ?? []) {
    sub.items.data.push(buildItem(sub.id, price, quantity, period, now));
  }
  sub.items.data = sub.items.data.filter(
    (item) => !change.deletedItems?.includes(item.id),
  );

  const after = sub.items.data.map((item) => item.price.recurring?.interval);
  const intervalChanged = after.some((interval, index) => interval !== before[index]);
  if (intervalChanged) restartPeriod(sub, now);
  return intervalChanged;
}

/** What Stripe still lets change once a subscription is canceled. */
function onlyMetadata(change: SubscriptionChange): boolean {
  const items = [change.itemPrices, change.newItems, change.deletedItems];
  const scheduling = [change.cancelAtPeriodEnd, change.cancelAt, change.description];
  return (
    items.every((list) => !list || list.length === 0) &&
    scheduling.every((value) => value === undefined)
  );
}

/**
 * Applies a change from the API or the portal and emits
 * `customer.subscription.updated` with the previous values of what changed. A change of billing
 * interval starts a new period and bills it (`invoice.paid`).
 */
export function changeSubscription(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  change: SubscriptionChange,
): StoredSubscription {
  if (sub.status === "canceled" && !onlyMetadata(change)) {
    throw new StripeApiError(
      400,
      "A canceled subscription can only update its cancellation_details and metadata.",
    );
  }
  const before = structuredClone(sub);
  const now = ctx.store.now();

  const restarted = changeItems(ctx, sub, change);
  if (change.cancelAtPeriodEnd !== undefined) {
    scheduleCancellation(
      sub,
      change.cancelAtPeriodEnd ? currentPeriodEnd(sub) : null,
      now,
    );
  }
  if (change.cancelAt !== undefined) scheduleCancellation(sub, change.cancelAt, now);
  if (change.metadata !== undefined) {
    sub.metadata = mergeMetadata(sub.metadata, change.metadata);
  }
  if (change.description !== undefined) sub.description = change.description;
  const invoice = restarted
    ? invoiceSubscription(ctx, sub, { reason: "subscription_update", paid: true })
    : null;

  emitSubscriptionUpdated(ctx, before, sub);
  if (invoice) emitEvent(ctx, "invoice.paid", invoice);
  return sub;
}

/** Ends a subscription now and emits `customer.subscription.deleted`. */
export function endSubscription(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  details: {
    endedAt?: number;
    comment?: string;
    feedback?: Stripe.Subscription.CancellationDetails.Feedback;
  } = {},
): StoredSubscription {
  const before = structuredClone(sub);
  const endedAt = details.endedAt ?? ctx.store.now();

  sub.status = "canceled";
  sub.ended_at = endedAt;
  sub.canceled_at = sub.canceled_at ?? endedAt;
  sub.cancellation_details = {
    comment: details.comment ?? sub.cancellation_details?.comment ?? null,
    feedback: details.feedback ?? sub.cancellation_details?.feedback ?? null,
    feedback_option: null,
    reason: "cancellation_requested",
  };

  const after = structuredClone(sub);
  emitEvent(
    ctx,
    "customer.subscription.deleted",
    after,
    changedAttributes(before, after),
  );
  return sub;
}
