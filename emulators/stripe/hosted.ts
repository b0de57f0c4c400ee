import {
  eventHandler,
  getQuery,
  getRouterParam,
  type H3Event,
  type Router,
  readBody,
  sendRedirect,
} from "h3";
import { formatAmount } from "../../lib/money.ts";
import { html } from "../shared/html.ts";
import { sendHtml } from "../shared/http.ts";
import {
  checkTypedPromotionCode,
  completeCheckoutSession,
  expireIfDue,
  successRedirect,
} from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";
import type { CardFieldValues } from "./pages/card-fields.ts";
import {
  type CheckoutForm,
  type CheckoutView,
  renderCheckoutPage,
} from "./pages/checkout-page.ts";
import { renderDashboardPage } from "./pages/dashboard-page.ts";
import { formatDate, formatInterval, formatPrice } from "./pages/format.ts";
import { stripePage } from "./pages/layout.ts";
import { type PortalSubscriptionView, renderPortalPage } from "./pages/portal-page.ts";
import { cardOnFile } from "./payments.ts";
import {
  payPastDue,
  portalSubscriptions,
  setCancelAtPeriodEnd,
  switchablePrices,
  switchPlan,
  updateCard,
} from "./portal.ts";
import { cardProblem, lastFour } from "./test-cards.ts";
import type {
  StoredCheckoutSession,
  StoredPortalSession,
  StoredPrice,
  StoredSubscription,
} from "./types.ts";

/*
 * The pages a reader's browser sees in the offline demo: Checkout at
 * /c/pay/:session, the billing portal at /p/session/:session, and an overview
 * at /. Plain HTML forms, no scripts.
 */

async function redirectTo(event: H3Event, location: string): Promise<undefined> {
  await sendRedirect(event, location, 303);
  return undefined;
}

function notFoundPage(event: H3Event, message: string): string {
  const body = html`<div class="panel narrow"><h1>Not found</h1><p>${message}</p></div>`;
  return sendHtml(event, stripePage("Not found · Stripe emulator", body), 404);
}

function productName(ctx: EmulatorContext, price: StoredPrice): string {
  return ctx.store.products.get(String(price.product))?.name ?? "Subscription";
}

// Checkout

function checkoutView(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  extra: { form?: CheckoutForm; error?: string } = {},
): CheckoutView {
  const items = session.line_items?.data ?? [];
  const prices = items.flatMap((item) => (item.price ? [item.price] : []));
  const trialDays =
    ctx.store.checkoutSubscriptionData.get(session.id)?.trial_period_days ?? null;
  const total = formatAmount(session.amount_total ?? 0, session.currency ?? "usd");
  const interval = prices[0] ? formatInterval(prices[0]) : "";
  const customer =
    typeof session.customer === "string"
      ? ctx.store.customers.get(session.customer)
      : undefined;

  return {
    session,
    lines: prices.map((price) => ({
      name: productName(ctx, price),
      description: ctx.store.products.get(String(price.product))?.description ?? null,
      price: formatPrice(price),
    })),
    dueToday: trialDays ? formatAmount(0, session.currency ?? "usd") : total,
    dueNote: trialDays
      ? `${trialDays}-day free trial, then ${total} ${interval}`
      : `${interval}`,
    knownEmail: customer?.email ?? null,
    trialDays,
    takesPromotionCodes: session.allow_promotion_codes === true,
    ...extra,
  };
}

/** The session named in the URL, expired first if its time is up. */
function sessionFromUrl(
  ctx: EmulatorContext,
  event: H3Event,
): StoredCheckoutSession | undefined {
  const session = ctx.store.checkoutSessions.get(getRouterParam(event, "id") ?? "");
  if (session) expireIfDue(ctx, session);
  return session;
}

function checkoutPage(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  extra: { form?: CheckoutForm; error?: string } = {},
): string {
  return renderCheckoutPage(checkoutView(ctx, session, extra), successRedirect(session));
}

function showCheckout(ctx: EmulatorContext, event: H3Event): string {
  const session = sessionFromUrl(ctx, event);
  if (!session) {
    return notFoundPage(event, "There is no checkout session at this address.");
  }
  return sendHtml(event, checkoutPage(ctx, session));
}

/** What the payment form would refuse: a missing email, or the card. */
function paymentProblem(
  ctx: EmulatorContext,
  session: StoredCheckoutSession,
  form: CheckoutForm,
): string | null {
  if (!checkoutView(ctx, session).knownEmail && !form.email?.trim()) {
    return "Your email address is incomplete.";
  }
  const card = {
    number: form.card_number ?? "",
    expiry: form.card_expiry ?? "",
    cvc: form.card_cvc ?? "",
  };
  return cardProblem(card, new Date(ctx.store.now() * 1000));
}

async function payCheckout(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<string | undefined> {
  const session = sessionFromUrl(ctx, event);
  if (!session) {
    return notFoundPage(event, "There is no checkout session at this address.");
  }
  const form = ((await readBody(event)) ?? {}) as CheckoutForm;
  if (session.status !== "open") return sendHtml(event, checkoutPage(ctx, session), 409);

  const code = checkTypedPromotionCode(ctx, session, form.promotion_code);
  if (code && !code.ok) {
    return sendHtml(
      event,
      checkoutPage(ctx, session, { form, error: code.message }),
      400,
    );
  }
  const problem = paymentProblem(ctx, session, form);
  if (problem) {
    return sendHtml(event, checkoutPage(ctx, session, { form, error: problem }), 402);
  }

  completeCheckoutSession(ctx, session, {
    email: form.email?.trim(),
    name: form.name?.trim(),
    card: form.card_number,
    promotionCode: code?.promotionCode,
  });
  ctx.store.markChanged();
  const target = successRedirect(session);
  if (target) return redirectTo(event, target);
  return sendHtml(event, checkoutPage(ctx, session));
}

// Billing portal

function renewalLine(sub: StoredSubscription): string {
  const end = sub.items.data[0]?.current_period_end;
  if (sub.status === "canceled") {
    return `Ended on ${formatDate(sub.ended_at ?? sub.created)}`;
  }
  if (sub.cancel_at) return `Cancels on ${formatDate(sub.cancel_at)}`;
  if (sub.status === "trialing" && sub.trial_end) {
    return `Trial ends on ${formatDate(sub.trial_end)}`;
  }
  if (sub.status === "past_due") {
    return "The last payment failed. Update your card or pay now to keep access.";
  }
  if (sub.status === "unpaid") {
    return "The payment failed on every retry. Update your card or pay now to restore access.";
  }
  return end ? `Renews on ${formatDate(end)}` : "";
}

function portalSubscriptionView(
  ctx: EmulatorContext,
  sub: StoredSubscription,
): PortalSubscriptionView {
  const price = sub.items.data[0]?.price;
  return {
    subscription: sub,
    plan: price ? productName(ctx, price) : "Subscription",
    price: price ? formatPrice(price) : "",
    renewal: renewalLine(sub),
    choices: switchablePrices(ctx, sub).map((choice) => ({
      priceId: choice.id,
      label: `${productName(ctx, choice)} · ${formatPrice(choice)}`,
    })),
  };
}

const NOTICES: Record<string, string> = {
  switched: "Your plan has been changed.",
  canceled: "Your subscription will be canceled at the end of the billing period.",
  resumed: "Your subscription will continue.",
  paid: "Thanks, the payment went through.",
  card_updated: "Your card has been updated.",
  card_paid: "Your card has been updated and the overdue payment went through.",
};

/** Why the page is shown again instead of redirecting: the message and status. */
interface PortalRefusal {
  message: string;
  status: number;
  cardForm?: CardFieldValues;
}

function portalSessionFromUrl(
  ctx: EmulatorContext,
  event: H3Event,
): StoredPortalSession | undefined {
  return ctx.store.portalSessions.get(getRouterParam(event, "id") ?? "");
}

function portalNotFound(event: H3Event): string {
  return notFoundPage(event, "There is no billing portal session at this address.");
}

function showPortal(
  ctx: EmulatorContext,
  event: H3Event,
  refusal?: PortalRefusal,
): string {
  const session = portalSessionFromUrl(ctx, event);
  if (!session) return portalNotFound(event);
  const customer = ctx.store.customers.get(session.customer);
  const notice = NOTICES[String(getQuery(event).done ?? "")];

  const markup = renderPortalPage({
    session,
    customerLabel: customer?.email ?? customer?.name ?? session.customer,
    subscriptions: portalSubscriptions(ctx, session).map((sub) =>
      portalSubscriptionView(ctx, sub),
    ),
    cardLastFour: lastFour(cardOnFile(ctx, session.customer)),
    notice: refusal ? undefined : notice,
    error: refusal?.message,
    cardForm: refusal?.cardForm,
  });
  return sendHtml(event, markup, refusal?.status ?? 200);
}

type PortalResult = { done: string } | { declined: string };

/** Performs a portal button's action; answers the notice to show, or the decline. */
function applyPortalAction(
  ctx: EmulatorContext,
  session: StoredPortalSession,
  subscriptionId: string,
  action: string,
  price: string | undefined,
): PortalResult {
  switch (action) {
    case "switch":
      switchPlan(ctx, session, subscriptionId, price ?? "");
      return { done: "switched" };
    case "cancel":
      setCancelAtPeriodEnd(ctx, session, subscriptionId, true);
      return { done: "canceled" };
    case "resume":
      setCancelAtPeriodEnd(ctx, session, subscriptionId, false);
      return { done: "resumed" };
    case "pay": {
      const declined = payPastDue(ctx, session, subscriptionId);
      return declined ? { declined } : { done: "paid" };
    }
    default:
      throw new StripeApiError(404, "Unknown portal action.");
  }
}

async function actInPortal(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<string | undefined> {
  const session = portalSessionFromUrl(ctx, event);
  if (!session) return portalNotFound(event);
  const subscriptionId = getRouterParam(event, "subscription") ?? "";
  const action = getRouterParam(event, "action") ?? "";
  const form = ((await readBody(event)) ?? {}) as { price?: string };

  try {
    const result = applyPortalAction(ctx, session, subscriptionId, action, form.price);
    ctx.store.markChanged();
    if ("declined" in result) {
      return showPortal(ctx, event, { message: result.declined, status: 402 });
    }
    return redirectTo(event, `/p/session/${session.id}?done=${result.done}`);
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return showPortal(ctx, event, { message: error.message, status: 400 });
  }
}

async function updateCardInPortal(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<string | undefined> {
  const session = portalSessionFromUrl(ctx, event);
  if (!session) return portalNotFound(event);
  const form = ((await readBody(event)) ?? {}) as CardFieldValues;
  const card = {
    number: form.card_number ?? "",
    expiry: form.card_expiry ?? "",
    cvc: form.card_cvc ?? "",
  };

  const update = updateCard(ctx, session, card);
  if (!update.saved) {
    const refusal = { message: update.refused, status: 402, cardForm: form };
    return showPortal(ctx, event, refusal);
  }
  ctx.store.markChanged();
  if (update.declined) {
    return showPortal(ctx, event, { message: update.declined, status: 402 });
  }
  const done = update.recovered > 0 ? "card_paid" : "card_updated";
  return redirectTo(event, `/p/session/${session.id}?done=${done}`);
}

// Overview

function showDashboard(ctx: EmulatorContext, event: H3Event): string {
  const { store } = ctx;
  const deliveries = store.deliveries.all();
  const markup = renderDashboardPage({
    baseUrl: ctx.baseUrl,
    catalog: store.products.all().map((product) => ({
      product: product.name,
      tier: product.metadata.tier ?? null,
      prices: store.prices
        .all()
        .filter((price) => price.product === product.id)
        .map(
          (price) =>
            `${formatPrice(price)}${price.lookup_key ? ` (${price.lookup_key})` : ""}`,
        ),
    })),
    customers: store.customers.newestFirst().slice(0, 50),
    subscriptions: store.subscriptions
      .newestFirst()
      .slice(0, 50)
      .map((subscription) => {
        const price = subscription.items.data[0]?.price;
        return { subscription, plan: price ? productName(ctx, price) : "" };
      }),
    endpoints: store.webhookEndpoints.all(),
    events: store.events
      .newestFirst()
      .slice(0, 50)
      .map((e) => ({
        event: e,
        deliveries: deliveries.filter((d) => d.eventId === e.id),
      })),
  });
  return sendHtml(event, markup);
}

export function registerHostedPages(router: Router, ctx: EmulatorContext): void {
  router.get(
    "/",
    eventHandler((event) => showDashboard(ctx, event)),
  );
  router.get(
    "/c/pay/:id",
    eventHandler((event) => showCheckout(ctx, event)),
  );
  router.post(
    "/c/pay/:id",
    eventHandler((event) => payCheckout(ctx, event)),
  );
  router.get(
    "/p/session/:id",
    eventHandler((event) => showPortal(ctx, event)),
  );
  router.post(
    "/p/session/:id/card",
    eventHandler((event) => updateCardInPortal(ctx, event)),
  );
  router.post(
    "/p/session/:id/subscriptions/:subscription/:action",
    eventHandler((event) => actInPortal(ctx, event)),
  );
}
