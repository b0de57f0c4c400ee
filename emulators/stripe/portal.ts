import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { requireCustomer } from "./customers.ts";
import { noSuchObject, StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { newId } from "./ids.ts";
import { recordDeclinedPaymentByReader } from "./invoices.ts";
import { recoverPayment } from "./lifecycle.ts";
import { expand, parseParams, text } from "./params.ts";
import {
  cardOnFile,
  chargeCardOnFileWithReader,
  emitChargeOutcome,
  replaceDefaultCard,
} from "./payments.ts";
import { hasPortalConfiguration } from "./portal-configurations.ts";
import { requireRecurringPrice } from "./prices.ts";
import { changeSubscription } from "./subscription-changes.ts";
import { requireSubscription } from "./subscriptions.ts";
import { type CardInput, chargeDeclineMessage, savedCardProblem } from "./test-cards.ts";
import type {
  StoredInvoice,
  StoredPortalSession,
  StoredPrice,
  StoredSubscription,
} from "./types.ts";

const createSchema = z.object({
  customer: text,
  return_url: text
    .refine((value) => URL.canParse(value), { error: "Not a valid URL" })
    .optional(),
  configuration: text.optional(),
  locale: text.optional(),
  expand,
});

export function createPortalSession(
  ctx: EmulatorContext,
  raw: unknown,
): StoredPortalSession {
  const params = parseParams(createSchema, raw);
  requireCustomer(ctx, params.customer, "customer");
  if (params.configuration && !hasPortalConfiguration(ctx, params.configuration)) {
    throw noSuchObject(
      "billing_portal.configuration",
      params.configuration,
      "configuration",
    );
  }

  const id = newId("bps");
  const session: StoredPortalSession = {
    id,
    object: "billing_portal.session",
    configuration: params.configuration ?? ctx.store.portalConfigurationId,
    created: ctx.store.now(),
    customer: params.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: params.return_url ?? null,
    url: `${ctx.baseUrl}/p/session/${id}`,
  };
  ctx.store.portalSessions.insert(session);
  emitEvent(ctx, "billing_portal.session.created", session);
  return session;
}

/** The customer's subscriptions the portal lists: live ones first, then ended ones. */
export function portalSubscriptions(
  ctx: EmulatorContext,
  session: StoredPortalSession,
): StoredSubscription[] {
  const subs = ctx.store.subscriptions
    .newestFirst()
    .filter((sub) => sub.customer === session.customer);
  return [
    ...subs.filter((sub) => sub.status !== "canceled"),
    ...subs.filter((sub) => sub.status === "canceled"),
  ];
}

/**
 * The plans a reader may switch to: active recurring prices of products that
 * carry a `metadata.tier`, in the subscription's currency. Other products in
 * the account (the sticker pack) are never offered.
 */
export function switchablePrices(
  ctx: EmulatorContext,
  sub: StoredSubscription,
): StoredPrice[] {
  return ctx.store.prices.all().filter((price) => {
    const product = ctx.store.products.get(String(price.product));
    return (
      price.active &&
      price.type === "recurring" &&
      price.currency === sub.currency &&
      product?.active === true &&
      Boolean(product.metadata.tier)
    );
  });
}

function portalSubscription(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  subscriptionId: string,
): StoredSubscription {
  const sub = requireSubscription(ctx, subscriptionId);
  if (sub.customer !== session.customer) {
    throw new StripeApiError(404, "This subscription belongs to another customer.");
  }
  return sub;
}

export function switchPlan(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  subscriptionId: string,
  priceId: string,
): void {
  const sub = portalSubscription(ctx, session, subscriptionId);
  const item = sub.items.data[0];
  if (!item || item.price.id === priceId) return;
  if (!switchablePrices(ctx, sub).some((price) => price.id === priceId)) {
    throw new StripeApiError(400, "That plan is not offered in the portal.");
  }

  const price = requireRecurringPrice(ctx, priceId, "price", sub.currency);
  changeSubscription(ctx, sub, {
    itemPrices: [{ itemId: item.id, price }],
    cancelAtPeriodEnd: false,
  });
}

export function setCancelAtPeriodEnd(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  subscriptionId: string,
  cancel: boolean,
): void {
  const sub = portalSubscription(ctx, session, subscriptionId);
  if (sub.cancel_at_period_end === cancel && (cancel || sub.cancel_at === null)) return;
  changeSubscription(ctx, sub, { cancelAtPeriodEnd: cancel });
}

const OVERDUE = ["past_due", "unpaid"];

/** The open invoice a past_due or unpaid subscription is waiting on. */
function overdueInvoice(
  ctx: EmulatorContext,
  sub: StoredSubscription,
): StoredInvoice | undefined {
  if (!OVERDUE.includes(sub.status)) return undefined;
  const invoice = ctx.store.invoices.get(String(sub.latest_invoice));
  return invoice?.status === "open" ? invoice : undefined;
}

/**
 * Charges the card on file for an overdue invoice with the reader on the page.
 * Answers the decline message, or null when the subscription is active again.
 */
function payOverdueInvoice(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  invoice: StoredInvoice,
): string | null {
  const customerId = String(sub.customer);
  const outcome = chargeCardOnFileWithReader(ctx, customerId);
  if (outcome === "succeeded") {
    recoverPayment(ctx, sub);
    return null;
  }

  recordDeclinedPaymentByReader(invoice);
  emitChargeOutcome(ctx, invoice, outcome);
  return chargeDeclineMessage(cardOnFile(ctx, customerId));
}

/**
 * "Pay now" on a past_due or unpaid subscription: the card on file pays the
 * open invoice. Answers the decline message, or null when it went through.
 */
export function payPastDue(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  subscriptionId: string,
): string | null {
  const sub = portalSubscription(ctx, session, subscriptionId);
  const invoice = overdueInvoice(ctx, sub);
  if (!invoice) {
    throw new StripeApiError(400, "This subscription has no overdue payment.");
  }
  return payOverdueInvoice(ctx, sub, invoice);
}

export type CardUpdate =
  | { saved: false; refused: string }
  | {
      saved: true;
      /** Overdue subscriptions the new card paid, now active again. */
      recovered: number;
      /** Why an overdue payment with the new card was declined. */
      declined: string | null;
    };

/**
 * "Update card": the card is checked as the payment form checks it, saved as
 * the customer's default, and any overdue invoice is retried with it at once,
 * so a reader whose payment failed is back in good standing as soon as the
 * card is fixed.
 */
export function updateCard(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  card: CardInput,
): CardUpdate {
  const refused = savedCardProblem(card, new Date(ctx.store.now() * 1000));
  if (refused) return { saved: false, refused };
  replaceDefaultCard(ctx, session.customer, card.number);

  let recovered = 0;
  let declined: string | null = null;
  for (const sub of portalSubscriptions(ctx, session)) {
    const invoice = overdueInvoice(ctx, sub);
    if (!invoice) continue;
    const problem = payOverdueInvoice(ctx, sub, invoice);
    if (problem) declined = `Your card was saved, but the payment failed: ${problem}`;
    else recovered++;
  }
  return { saved: true, recovered, declined };
}
