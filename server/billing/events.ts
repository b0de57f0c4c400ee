import type Stripe from "stripe";

/**
 * The Stripe events Tierwall listens to, and what each asks of the server.
 * `npm run stripe:setup` subscribes the webhook endpoint to exactly this list;
 * the webhook answers any other type with 200 and changes nothing.
 */

/** Events that say something about one customer's subscriptions. */
const CUSTOMER_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "checkout.session.expired",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
  "customer.subscription.pending_update_applied",
  "customer.subscription.pending_update_expired",
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.payment_action_required",
] as const satisfies readonly Stripe.Event.Type[];

/** Events that change the catalog the pricing table is read from. */
const CATALOG_EVENTS = [
  "product.created",
  "product.updated",
  "product.deleted",
  "price.created",
  "price.updated",
  "price.deleted",
] as const satisfies readonly Stripe.Event.Type[];

export const HANDLED_EVENT_TYPES: readonly Stripe.Event.Type[] = [
  ...CUSTOMER_EVENTS,
  ...CATALOG_EVENTS,
];

const customerEventTypes = new Set<string>(CUSTOMER_EVENTS);
const catalogEventTypes = new Set<string>(CATALOG_EVENTS);

export type WebhookTrigger =
  | { kind: "pricing" }
  | { kind: "customer"; customerId: string }
  /** A type Tierwall does not listen to. */
  | { kind: "ignored" }
  /** A type it listens to, about no customer (a guest checkout, say). */
  | { kind: "no-customer" };

/** What an event asks of us: a pricing refresh, a customer sync, or nothing. */
export function triggerOf(event: Pick<Stripe.Event, "type" | "data">): WebhookTrigger {
  if (catalogEventTypes.has(event.type)) return { kind: "pricing" };
  if (!customerEventTypes.has(event.type)) return { kind: "ignored" };

  const customerId = customerIdOf(event.data.object);
  return customerId ? { kind: "customer", customerId } : { kind: "no-customer" };
}

/** The customer id an event's object carries, plain or expanded. */
export function customerIdOf(object: unknown): string | null {
  if (typeof object !== "object" || object === null) return null;
  const { customer } = object as { customer?: unknown };
  if (typeof customer === "string") return customer;
  const nested = customer as { id?: unknown } | null | undefined;
  return typeof nested?.id === "string" ? nested.id : null;
}
