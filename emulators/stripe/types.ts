import type Stripe from "stripe";

/** The API version the installed SDK pins; events and endpoints report it. */
export const API_VERSION = "2026-11-18.endive";

/*
 * Stored objects follow the SDK's own types, with one exception. The SDK's types
 * still declare `Product.type` and `SubscriptionItem.plan`, but the published
 * schema for this API version (../shared/contracts/stripe-subset.json) no longer
 * lists them, so the emulator does not send them. Read the price from
 * `item.price`, never from `item.plan`.
 */
export type StoredProduct = Omit<Stripe.Product, "type">;
export type StoredPrice = Stripe.Price;
export type StoredCustomer = Stripe.Customer;
export type StoredSubscriptionItem = Omit<Stripe.SubscriptionItem, "plan">;
export type StoredSubscription = Omit<Stripe.Subscription, "items"> & {
  items: Stripe.ApiList<StoredSubscriptionItem>;
};
export type StoredInvoice = Stripe.Invoice;
export type StoredCheckoutSession = Stripe.Checkout.Session;
export type StoredPortalSession = Stripe.BillingPortal.Session;
export type StoredEvent = Stripe.EventBase;
export type StoredCoupon = Stripe.Coupon;
export type StoredPromotionCode = Stripe.PromotionCode;
/** A coupon at work on one subscription (discounts.ts). */
export type StoredDiscount = Stripe.Discount;
export type EventType = Stripe.Event.Type;

/** Webhook endpoints keep their secret; the API shows it only on creation. */
export type StoredWebhookEndpoint = Stripe.WebhookEndpoint & { secret: string };

/** Keyed by Checkout Session ID: what the subscription started by paying gets. */
export interface CheckoutSubscriptionData {
  id: string;
  metadata?: Record<string, string>;
  trial_period_days?: number;
  description?: string;
}

export interface DeliveryAttempt {
  /** Unix milliseconds. */
  at: number;
  /** HTTP status, or null when the connection failed. */
  status: number | null;
  error?: string;
}

/**
 * Where a delivery stands. "held" waits for a test to release or drop it
 * (`/_emulator/webhooks/*`); "dropped" is never sent.
 */
export type DeliveryState = "pending" | "held" | "dropped" | "succeeded" | "failed";

/** One event on its way to one endpoint. */
export interface Delivery {
  id: string;
  eventId: string;
  endpointId: string;
  url: string;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
}

/**
 * Keyed by customer ID: how many more subscription reads answer with an
 * earlier version of the customer's subscriptions (`/_emulator/.../stale_reads`).
 */
export interface StaleRead {
  id: string;
  reads: number;
  versionsBack: number;
}

/** Keyed by customer ID: the test card the customer's renewals are charged to. */
export interface SavedCard {
  id: string;
  number: string;
}

export interface IdempotentResult {
  key: string;
  /** "POST /v1/customers": a key is only reused within the same route. */
  route: string;
  /** The request body, to refuse the same key with different parameters. */
  body: string;
  status: number;
  response: unknown;
  createdAt: number;
}

/**
 * A decimal amount as it travels on the wire: a string such as "1200". The SDK
 * turns it into its `Decimal` class when it reads a response; the stored
 * objects keep the wire form, hence the cast.
 */
export function decimalString(value: number): Stripe.Decimal {
  return String(value) as unknown as Stripe.Decimal;
}
