import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { discountLines, endSpentDiscounts } from "./discounts.ts";
import { noSuchObject } from "./errors.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { listPage } from "./list.ts";
import { expand, oneOf, pagination, parseParams, readExpand, text } from "./params.ts";
import {
  decimalString,
  type StoredInvoice,
  type StoredSubscription,
  type StoredSubscriptionItem,
} from "./types.ts";

const DAY_SECONDS = 86_400;

/**
 * When a failed subscription payment is tried again: 3, 5 and 7 days after
 * the first failure. After the last failed retry the invoice stays open and
 * the subscription becomes `unpaid`. A first payment that fails when a
 * subscription is created is not retried: the subscription stays `incomplete`.
 */
export const RETRY_SCHEDULE_DAYS: readonly number[] = [3, 5, 7];

/**
 * The scheduled retry after the one due now, or null after the last one. It
 * follows the schedule, not the attempt count, because a reader paying by hand
 * adds attempts without moving the schedule.
 */
export function nextRetryAt(invoice: StoredInvoice): number | null {
  const due = invoice.next_payment_attempt;
  if (due === null) return null;
  const later = RETRY_SCHEDULE_DAYS.map((days) => invoice.created + days * DAY_SECONDS);
  return later.find((at) => at > due) ?? null;
}

export interface InvoiceOptions {
  reason: Stripe.Invoice.BillingReason;
  /** False leaves the invoice open with one failed attempt, as after a decline. */
  paid: boolean;
}

function itemAmount(item: StoredSubscriptionItem, inTrial: boolean): number {
  return inTrial ? 0 : (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
}

function productName(ctx: EmulatorContext, item: StoredSubscriptionItem): string {
  const productId = item.price.product;
  if (typeof productId !== "string") return "Subscription";
  return ctx.store.products.get(productId)?.name ?? "Subscription";
}

function buildLine(
  ctx: EmulatorContext,
  invoiceId: string,
  sub: StoredSubscription,
  item: StoredSubscriptionItem,
): Stripe.InvoiceLineItem {
  const inTrial = sub.status === "trialing";
  const name = productName(ctx, item);
  return {
    id: newId("il"),
    object: "line_item",
    amount: itemAmount(item, inTrial),
    currency: item.price.currency,
    description: inTrial ? `Trial period for ${name}` : `${item.quantity ?? 1} × ${name}`,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: sub.id,
        subscription_item: item.id,
      },
      type: "subscription_item_details",
    },
    period: { start: item.current_period_start, end: item.current_period_end },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: item.price.id, product: String(item.price.product) },
      type: "price_details",
      unit_amount_decimal: decimalString(item.price.unit_amount ?? 0),
    },
    quantity: item.quantity ?? 1,
    quantity_decimal: decimalString(item.quantity ?? 1),
    subscription: sub.id,
    subtotal: itemAmount(item, inTrial),
    taxes: [],
  };
}

function invoiceNumber(ctx: EmulatorContext, customerId: string): string | null {
  const customer = ctx.store.customers.get(customerId);
  if (!customer) return null;
  const sequence = customer.next_invoice_sequence ?? 1;
  customer.next_invoice_sequence = sequence + 1;
  return `${customer.invoice_prefix}-${String(sequence).padStart(4, "0")}`;
}

function buildInvoice(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  options: InvoiceOptions,
): StoredInvoice {
  const now = ctx.store.now();
  const id = newId("in");
  const customerId = String(sub.customer);
  const customer = ctx.store.customers.get(customerId);
  const lines = sub.items.data.map((item) => buildLine(ctx, id, sub, item));
  const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
  const { discounts, amounts } = discountLines(ctx, sub, lines);
  const total = subtotal - amounts.reduce((sum, entry) => sum + entry.amount, 0);
  const paid = options.paid || total === 0;

  return {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "Tierwall Stripe emulator",
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: paid ? total : 0,
    amount_paid_off_stripe: 0,
    amount_remaining: paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: total === 0 ? 0 : 1,
    attempted: true,
    auto_advance: !paid,
    automatic_tax: {
      disabled_reason: null,
      enabled: false,
      liability: null,
      provider: null,
      status: null,
    },
    automatically_finalizes_at: null,
    billing_reason: options.reason,
    collection_method: "charge_automatically",
    created: now,
    currency: sub.currency,
    custom_fields: null,
    customer: customerId,
    customer_account: null,
    customer_address: null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts,
    due_date: null,
    effective_at: now,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: lines,
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt:
      paid || options.reason === "subscription_create"
        ? null
        : now + (RETRY_SCHEDULE_DAYS[0] ?? 0) * DAY_SECONDS,
    number: invoiceNumber(ctx, customerId),
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: { metadata: sub.metadata, subscription: sub.id },
      type: "subscription_details",
    },
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: sub.items.data[0]?.current_period_end ?? now,
    period_start: sub.items.data[0]?.current_period_start ?? now,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: paid ? "paid" : "open",
    status_transitions: {
      finalized_at: now,
      marked_uncollectible_at: null,
      paid_at: paid ? now : null,
      voided_at: null,
    },
    subtotal,
    subtotal_excluding_tax: subtotal,
    test_clock: null,
    total,
    total_discount_amounts: amounts,
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: now,
  };
}

/**
 * Bills a subscription's current period, less its running discounts; the
 * caller emits the invoice events.
 */
export function invoiceSubscription(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  options: InvoiceOptions,
): StoredInvoice {
  const invoice = ctx.store.invoices.insert(buildInvoice(ctx, sub, options));
  sub.latest_invoice = invoice.id;
  endSpentDiscounts(ctx, sub, invoice);
  return invoice;
}

/** Settles an open invoice, as a successful retry of the card would. */
export function markInvoicePaid(ctx: EmulatorContext, invoice: StoredInvoice): void {
  const now = ctx.store.now();
  invoice.status = "paid";
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.attempt_count += 1;
  invoice.auto_advance = false;
  invoice.next_payment_attempt = null;
  invoice.status_transitions.paid_at = now;
}

/** A retry was declined too: one more attempt, and the next one scheduled. */
export function recordFailedAttempt(invoice: StoredInvoice): void {
  invoice.attempt_count += 1;
  invoice.next_payment_attempt = nextRetryAt(invoice);
  invoice.auto_advance = invoice.next_payment_attempt !== null;
}

/**
 * The reader's own payment was declined: one more attempt, and the scheduled
 * retries stay as they were.
 */
export function recordDeclinedPaymentByReader(invoice: StoredInvoice): void {
  invoice.attempt_count += 1;
}

export function retrieveInvoice(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredInvoice {
  const invoice = ctx.store.invoices.get(id);
  if (!invoice) throw noSuchObject("invoice", id);
  return expandFrom(ctx, invoice, readExpand(raw));
}

const listSchema = z.object({
  ...pagination,
  customer: text.optional(),
  subscription: text.optional(),
  status: oneOf(["draft", "open", "paid", "uncollectible", "void"]).optional(),
  expand,
});

export function listInvoices(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredInvoice> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.invoices.newestFirst().filter((invoice) => {
    if (params.customer && invoice.customer !== params.customer) return false;
    if (params.status && invoice.status !== params.status) return false;
    const subscription = invoice.parent?.subscription_details?.subscription;
    return !params.subscription || subscription === params.subscription;
  });
  return listPage(ctx, rows, params, "/v1/invoices");
}
