import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { insertCustomer, requireCustomer } from "./customers.ts";
import { discountCheckoutItems } from "./discounts.ts";
import { invalidParam, noSuchObject, StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newId } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  integer,
  list,
  metadata,
  oneOf,
  pagination,
  parseParams,
  positiveInteger,
  readExpand,
  text,
} from "./params.ts";
import { saveCard } from "./payments.ts";
import { requireRecurringPrice } from "./prices.ts";
import { type Redemption, redeemablePromotionCode } from "./promotion-codes.ts";
import {
  announceSubscriptionStart,
  presentSubscription,
  startSubscription,
} from "./subscriptions.ts";
import type { StoredCheckoutSession, StoredPrice, StoredPromotionCode } from "./types.ts";

const SESSION_LIFETIME_SECONDS = 24 * 3600;

const urlParam = text.refine((value) => URL.canParse(value), {
  error: "Not a valid URL",
});

const createSchema = z.object({
  mode: oneOf(["payment", "setup", "subscription"]),
  line_items: list(z.object({ price: text, quantity: positiveInteger })),
  success_url: urlParam.optional(),
  cancel_url: urlParam.optional(),
  customer: text.optional(),
  customer_email: text.optional(),
  client_reference_id: text
    .max(200, { error: "Invalid string (at most 200 characters)" })
    .optional(),
  metadata: metadata.optional(),
  allow_promotion_codes: flag.optional(),
  expires_at: integer.optional(),
  locale: text.optional(),
  subscription_data: z
    .object({
      metadata: metadata.optional(),
      trial_period_days: positiveInteger.optional(),
      description: text.optional(),
    })
    .optional(),
  expand,
});

type CreateParams = z.output<typeof createSchema>;

function buildLineItem(
  price: StoredPrice,
  quantity: number,
  productName: string,
): Stripe.LineItem {
  const amount = (price.unit_amount ?? 0) * quantity;
  return {
    id: newId("li"),
    object: "item",
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description: productName,
    metadata: {},
    price: structuredClone(price),
    quantity,
  };
}

function resolveLineItems(ctx: EmulatorContext, params: CreateParams): Stripe.LineItem[] {
  if (params.line_items.length === 0) {
    throw invalidParam("line_items", "line_items must not be empty.");
  }

  const items = params.line_items.map((item, index) => {
    const price = requireRecurringPrice(ctx, item.price, `line_items[${index}][price]`);
    const product = ctx.store.products.get(String(price.product));
    return buildLineItem(price, item.quantity, product?.name ?? "Subscription");
  });
  const currencies = new Set(items.map((item) => item.currency));
  if (currencies.size > 1) {
    throw invalidParam("line_items", "All prices must share one currency.");
  }
  return items;
}

function checkCreateParams(ctx: EmulatorContext, params: CreateParams): void {
  if (params.mode !== "subscription") {
    throw invalidParam(
      "mode",
      "The emulator supports Checkout in `mode=subscription` only.",
    );
  }
  if (params.customer && params.customer_email) {
    throw new StripeApiError(
      400,
      "You may only specify one of these parameters: customer, customer_email.",
      {
        param: "customer_email",
      },
    );
  }
  if (params.customer) requireCustomer(ctx, params.customer, "customer");
}

function buildSession(
  ctx: EmulatorContext,
  params: CreateParams,
  lineItems: Stripe.LineItem[],
): StoredCheckoutSession {
  const id = newId("cs_test", 58);
  const now = ctx.store.now();
  const total = lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  return {
    id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: params.allow_promotion_codes ?? null,
    allowed_payment_method_types: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: params.cancel_url ?? null,
    client_reference_id: params.client_reference_id ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency: lineItems[0]?.currency ?? null,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: params.customer ?? null,
    customer_account: null,
    customer_creation: null,
    customer_details: null,
    customer_email: params.customer_email ?? null,
    discounts: [],
    expires_at: params.expires_at ?? now + SESSION_LIFETIME_SECONDS,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    line_items: {
      object: "list",
      data: lineItems,
      has_more: false,
      url: `/v1/checkout/sessions/${id}/line_items`,
    },
    livemode: false,
    locale: (params.locale as Stripe.Checkout.Session.Locale | undefined) ?? null,
    managed_payments: null,
    metadata: params.metadata ?? {},
    mode: params.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: params.success_url ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted_page",
    url: hostedPageUrl(ctx, id),
    wallet_options: null,
  };
}

export function createCheckoutSession(
  ctx: EmulatorContext,
  raw: unknown,
): StoredCheckoutSession {
  const params = parseParams(createSchema, raw);
  checkCreateParams(ctx, params);
  const session = buildSession(ctx, params, resolveLineItems(ctx, params));

  ctx.store.checkoutSessions.insert(session);
  ctx.store.checkoutSubscriptionData.insert({
    id: session.id,
    ...params.subscription_data,
  });
  return presentSession(ctx, session, params.expand);
}

function hostedPageUrl(ctx: EmulatorContext, sessionId: string): string {
  return `${ctx.baseUrl}/c/pay/${sessionId}`;
}

/**
 * The session as the API shows it: `line_items` only when expanded, as on
 * Stripe, and the page URL at the emulator's current address (a restarted
 * emulator may listen elsewhere) while the session is open.
 */
export function presentSession(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  paths: readonly string[] = [],
): StoredCheckoutSession {
  const { line_items, ...rest } = session;
  const url = session.status === "open" ? hostedPageUrl(ctx, session.id) : null;
  const included = paths.some((path) => path.split(".")[0] === "line_items");
  const shown: StoredCheckoutSession = included
    ? { ...rest, url, line_items }
    : { ...rest, url };
  return expandFrom(ctx, shown, paths);
}

export function requireSession(ctx: EmulatorContext, id: string): StoredCheckoutSession {
  const session = ctx.store.checkoutSessions.get(id);
  if (!session) throw noSuchObject("checkout.session", id);
  expireIfDue(ctx, session);
  return session;
}

export function retrieveCheckoutSession(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCheckoutSession {
  return presentSession(ctx, requireSession(ctx, id), readExpand(raw));
}

const listSchema = z.object({
  ...pagination,
  customer: text.optional(),
  subscription: text.optional(),
  status: oneOf(["complete", "expired", "open"]).optional(),
  expand,
});

export function listCheckoutSessions(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredCheckoutSession> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.checkoutSessions.newestFirst().filter((session) => {
    expireIfDue(ctx, session);
    if (params.customer && session.customer !== params.customer) return false;
    if (params.subscription && session.subscription !== params.subscription) return false;
    return !params.status || session.status === params.status;
  });
  return listPage(ctx, rows, params, "/v1/checkout/sessions", (session) =>
    presentSession(ctx, session),
  );
}

export function listSessionLineItems(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): Stripe.ApiList<Stripe.LineItem> {
  const params = parseParams(z.object({ ...pagination, expand }), raw);
  const items = requireSession(ctx, id).line_items?.data ?? [];
  const url = `/v1/checkout/sessions/${id}/line_items`;
  return listPage(ctx, items, params, url);
}

function markExpired(ctx: EmulatorContext, session: StoredCheckoutSession): void {
  session.status = "expired";
  emitEvent(ctx, "checkout.session.expired", presentSession(ctx, session));
}

/** Open sessions past `expires_at` expire when next looked at, or when the clock moves. */
export function expireIfDue(ctx: EmulatorContext, session: StoredCheckoutSession): void {
  if (session.status === "open" && session.expires_at <= ctx.store.now()) {
    markExpired(ctx, session);
  }
}

export function expireCheckoutSession(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCheckoutSession {
  const session = requireSession(ctx, id);
  if (session.status !== "open") {
    throw new StripeApiError(
      400,
      `Only Checkout Sessions with a status in ["open"] can be expired.`,
    );
  }
  markExpired(ctx, session);
  return presentSession(ctx, session, readExpand(raw));
}

export interface Payer {
  email?: string;
  name?: string;
  /** The card paid with; it stays on file for renewals. */
  card?: string;
  /** The promotion code typed in, already checked (promotion-codes.ts). */
  promotionCode?: StoredPromotionCode;
  /**
   * Paid by a method that settles days later (a bank debit): the session
   * completes `unpaid`, the subscription starts `incomplete` with its first
   * invoice open, and no payment event goes out yet.
   */
  pendingPayment?: boolean;
}

function payingCustomer(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  payer: Payer,
): string {
  if (typeof session.customer === "string") return session.customer;
  const email = payer.email || session.customer_email || undefined;
  return insertCustomer(ctx, { email, name: payer.name || undefined }).id;
}

function customerDetails(
  ctx: EmulatorContext,
  customerId: string,
  payer: Payer,
): Stripe.Checkout.Session.CustomerDetails {
  const customer = ctx.store.customers.get(customerId);
  return {
    address: null,
    business_name: null,
    email: customer?.email ?? payer.email ?? null,
    individual_name: null,
    name: customer?.name ?? payer.name ?? null,
    phone: null,
    tax_exempt: "none",
    tax_ids: [],
  };
}

/**
 * Completes an open session after a successful payment: keeps the card on
 * file, starts the subscription (with the promotion code's discount, if the
 * reader gave one), bills the first period and emits, in this
 * order, `checkout.session.completed`, `customer.subscription.created` and
 * `invoice.paid` (after `customer.created` when Checkout made the customer).
 * A pending payment (`Payer.pendingPayment`) emits no `invoice.*` event.
 */
export function completeCheckoutSession(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  payer: Payer = {},
): void {
  if (session.status !== "open") {
    throw new StripeApiError(
      400,
      `This Checkout Session is ${session.status}, not open.`,
    );
  }
  const customer = payingCustomer(ctx, session, payer);
  if (payer.card) saveCard(ctx, customer, payer.card);
  const settings = ctx.store.checkoutSubscriptionData.get(session.id);
  const started = startSubscription(ctx, {
    customer,
    items: (session.line_items?.data ?? []).flatMap((item) =>
      item.price ? [{ price: item.price, quantity: item.quantity ?? 1 }] : [],
    ),
    metadata: settings?.metadata,
    description: settings?.description,
    trialDays: settings?.trial_period_days,
    firstCharge: payer.pendingPayment ? "declined" : "succeeded",
    promotionCode: payer.promotionCode,
    checkoutSession: session.id,
  });
  const { subscription, invoice } = started;

  if (payer.promotionCode) applySessionDiscount(ctx, session, payer.promotionCode);
  Object.assign(session, {
    status: "complete",
    payment_status: paymentStatus(invoice, payer),
    customer,
    customer_details: customerDetails(ctx, customer, payer),
    subscription: subscription.id,
    invoice: invoice.id,
  } satisfies Partial<StoredCheckoutSession>);

  emitEvent(ctx, "checkout.session.completed", presentSession(ctx, session));
  if (!payer.pendingPayment) announceSubscriptionStart(ctx, started);
  else {
    const created = presentSubscription(ctx, subscription);
    emitEvent(ctx, "customer.subscription.created", created);
  }
}

function paymentStatus(
  invoice: { amount_due: number },
  payer: Payer,
): Stripe.Checkout.Session.PaymentStatus {
  if (payer.pendingPayment) return "unpaid";
  return invoice.amount_due > 0 ? "paid" : "no_payment_required";
}

/**
 * The promotion code a reader typed on the session's page, checked against
 * what they are buying. An empty field is no code; a session created without
 * `allow_promotion_codes` takes none.
 */
export function checkTypedPromotionCode(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  typed: string | undefined,
): Redemption | null {
  const code = typed?.trim();
  if (!code) return null;
  if (session.allow_promotion_codes !== true) {
    return { ok: false, message: "This checkout does not take promotion codes." };
  }
  return redeemablePromotionCode(ctx, code, {
    customer: typeof session.customer === "string" ? session.customer : null,
    currency: session.currency ?? "usd",
    amount: session.amount_subtotal ?? 0,
  });
}

/** Shows the promotion code on the session and takes it off its totals. */
function applySessionDiscount(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  promo: StoredPromotionCode,
): void {
  const off = discountCheckoutItems(ctx, promo, session.line_items?.data ?? []);
  session.discounts = [
    { coupon: String(promo.promotion.coupon), promotion_code: promo.id },
  ];
  session.amount_total = (session.amount_subtotal ?? 0) - off;
  session.total_details = { amount_discount: off, amount_shipping: 0, amount_tax: 0 };
}

/** Where the browser goes after paying: `{CHECKOUT_SESSION_ID}` is filled in. */
export function successRedirect(session: StoredCheckoutSession): string | null {
  return session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", session.id) ?? null;
}
