/**
 * Test-only control routes. They are not part of Stripe's API, need no key,
 * and answer JSON.
 *
 *   GET  /_emulator/events
 *        Every event, oldest first, with its webhook deliveries:
 *        [{ id, type, created, object_id, deliveries: [{ endpoint, url, state:
 *        "pending" | "held" | "dropped" | "succeeded" | "failed",
 *        attempts: [{ at, status, error? }] }] }]
 *   POST /_emulator/events/:id/redeliver
 *        Sends a stored event again, now, as a new delivery (same ID and
 *        payload, freshly signed) to every enabled endpoint that wants its
 *        type, whatever became of it before (dropped, failed, delivered long
 *        ago), and waits for the answers: { deliveries: [{ endpoint, url,
 *        status, error? }] }, status null when no connection was made.
 *   POST /_emulator/flush?timeout_ms=30000
 *        Waits until no webhook delivery is pending (retries included; held
 *        and dropped ones are not pending), then answers
 *        { settled: true, pending: 0 }; on timeout { settled: false, pending }.
 *   POST /_emulator/webhooks/settings   { "hold"?, "delay_ms"?, "copies"? }
 *        Changes how new deliveries go out and answers { hold, delay_ms, copies }
 *        (defaults false, 0, 1). hold: new deliveries are kept as "held", not
 *        sent. delay_ms: each first attempt waits that long. copies: every
 *        attempt is sent that many times at once, the same signed payload; it
 *        succeeds only if every copy got a 2xx.
 *   GET  /_emulator/webhooks/held
 *        [{ delivery, event_id, type, created }], oldest first.
 *   POST /_emulator/webhooks/release   { "order"?: "created" | "reverse" | "shuffle", "event_ids"? }
 *        Sends held deliveries (all in `order`, default "created", or those of
 *        the listed events in the listed order) one after another, each once the
 *        previous one was answered: { released: [{ event_id, type, status }] },
 *        status null when no connection was made. Failures go on to the usual
 *        retries. The hold setting stays as it is.
 *   POST /_emulator/webhooks/drop   { "event_ids"? }
 *        Held deliveries (all, or those of the listed events) become "dropped"
 *        and are never sent: { dropped: n }.
 *   POST /_emulator/webhooks/burst   { "count", "mix"?, "concurrency"?, "duplicates"?, "customers"? }
 *        Records `count` (1–10,000) real events about existing subscriptions
 *        (all, or those of the listed customers, taken in turn) and sends them
 *        to every endpoint that wants their type, up to `concurrency` (default
 *        32) first attempts in flight at once; failures go on to the usual
 *        retries. `mix` weighs the types, e.g. { "customer.subscription.updated":
 *        6, "invoice.paid": 3, "customer.updated": 1 } (default: updated only):
 *        customer.subscription.* carries the subscription, invoice.* its latest
 *        invoice, customer.created/updated its customer; types burst.ts cannot
 *        make answer 400. `duplicates` events get a second delivery, sent right
 *        behind the first, so both are usually in flight at once. Answers once every
 *        delivery succeeded or ran out of retries: { events, deliveries,
 *        duplicates, undelivered, concurrency, types, event_ids, succeeded,
 *        failed, attempts, retries, non_2xx, connection_errors, first_sent_at,
 *        last_success_at, duration_ms, events_per_second, latency_ms: { p50,
 *        p90, p99, max } } (times in ms; latency from a delivery's first
 *        attempt to its 2xx). Of the settings, only `copies` applies to a
 *        burst: it is neither held nor delayed.
 *   POST /_emulator/outage   { "api": boolean }
 *        While on, every /v1 request answers 500 with an `api_error` ("Stripe is
 *        unavailable (emulated outage)") and `Stripe-Should-Retry: false`;
 *        webhook delivery, hosted pages and these routes keep working.
 *        Answers { api }.
 *   POST /_emulator/reset
 *        Forgets customers, sessions, subscriptions, invoices, coupons,
 *        promotion codes, stale reads, events and deliveries, rewinds the
 *        clock, restores the starting catalog (empty when the emulator was
 *        started with `catalog: "empty"`), and turns the webhook settings and
 *        the outage back to their defaults. Webhook endpoints (and their
 *        secrets) are kept.
 *   GET  /_emulator/webhook_endpoints
 *        The endpoints with their signing secrets, which the API shows only once.
 *   GET  /_emulator/clock
 *        { now, offset_seconds }: the emulator's time in Unix seconds.
 *   POST /_emulator/clock/start   { "now": unix seconds }
 *        Sets where the clock starts, in the past or the future, as a Stripe
 *        test clock is created at a frozen time: only while the emulator holds
 *        no customer (400 after), since nothing may then happen before what
 *        already happened. Answers { now, offset_seconds }.
 *   POST /_emulator/clock/advance   { "seconds": n } or { "days": n }
 *        Moves time forward; what falls due happens in time order (lifecycle.ts):
 *        `customer.subscription.trial_will_end` three days before a trial ends;
 *        at a period or trial end the card on file is charged (`invoice.paid`,
 *        or `past_due` with `invoice.payment_failed`); failed payments are
 *        retried 3, 5 and 7 days after the first failure, and after the last
 *        failed retry the subscription is `unpaid`; scheduled cancellations end
 *        subscriptions (`customer.subscription.deleted`); open Checkout Sessions
 *        past `expires_at` expire. Answers { now }.
 *   POST /_emulator/customers/:id/card   { "number": "4000000000000341" }
 *        Sets the test card the customer's renewals, retries and API-created
 *        subscriptions are charged to (4242… when none is set; test-cards.ts):
 *        4242 4242 4242 4242 pays, 4000 0000 0000 0341 is declined, 4000 0027
 *        6000 3184 needs authentication (`invoice.payment_action_required`).
 *        Answers { customer, number }; 402 for a card that cannot be saved.
 *   POST /_emulator/checkout/sessions/:id/complete   { "email"?, "name"?, "card"?, "promotion_code"?, "payment"? }
 *        Pays a session as the hosted page would (card 4242… by default, with
 *        the promotion code typed in, if given); answers the completed
 *        session, 400 for a code the session refuses, or 402 with the decline
 *        message. "payment": "pending" pays by a method that settles later,
 *        as a bank debit does: the session is `complete` with payment_status
 *        `unpaid`, its subscription `incomplete` with the first invoice open;
 *        `checkout.session.completed` and `customer.subscription.created` go
 *        out, no invoice event.
 *   POST /_emulator/customers/:id/stale_reads   { "reads"?: 1, "versions_back"?: 1 }
 *        As Stripe's eventual consistency can: the next `reads` (0–100,
 *        default 1; 0 disarms) subscription lists or retrieves that hold the
 *        customer's subscriptions (a list before it is cut into pages)
 *        answer with each one as it stood `versions_back` (1–100, default 1)
 *        changes earlier, by the objects its customer.subscription.* events
 *        carried (stale-reads.ts); the oldest version when there are fewer. A
 *        list filters by that earlier status. Answers { customer, reads,
 *        versions_back }.
 *   POST /_emulator/subscriptions/:id/payment_failed
 *        The renewal charge is declined: status `past_due`, an open invoice,
 *        `invoice.payment_failed` and `customer.subscription.updated`.
 *        The invoice is then retried on the clock like a failed renewal.
 *   POST /_emulator/subscriptions/:id/payment_recovered
 *        The open invoice of a past_due, unpaid or incomplete subscription is
 *        paid: status `active`, `invoice.paid` and `customer.subscription.updated`.
 *
 * Bodies may be JSON or form-encoded.
 */
import {
  eventHandler,
  getQuery,
  getRouterParam,
  type H3Event,
  type Router,
  setResponseStatus,
} from "h3";
import { deliverBurst } from "./burst.ts";
import { seedCatalog } from "./catalog.ts";
import {
  checkTypedPromotionCode,
  completeCheckoutSession,
  presentSession,
  requireSession,
} from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { readControlBody, readFlag, readText, readWholeNumber } from "./control-body.ts";
import { requireCustomer } from "./customers.ts";
import { StripeApiError } from "./errors.ts";
import { advanceClock, failPayment, recoverPayment } from "./lifecycle.ts";
import { cardOnFile, saveCard } from "./payments.ts";
import { armStaleReads } from "./stale-reads.ts";
import { presentSubscription, requireSubscription } from "./subscriptions.ts";
import { attachProblem, cardProblem, SUCCEEDING_CARD } from "./test-cards.ts";
import {
  changeDeliverySettings,
  dropHeld,
  listHeld,
  redeliverEvent,
  releaseHeld,
} from "./webhook-controls.ts";

function listEventsWithDeliveries(ctx: EmulatorContext): unknown[] {
  const deliveries = ctx.store.deliveries.all();
  return ctx.store.events.all().map((event) => ({
    id: event.id,
    type: event.type,
    created: event.created,
    object_id: (event.data.object as { id?: string }).id ?? null,
    deliveries: deliveries
      .filter((delivery) => delivery.eventId === event.id)
      .map(({ endpointId, url, state, attempts }) => ({
        endpoint: endpointId,
        url,
        state,
        attempts,
      })),
  }));
}

async function flush(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const timeout = Number(getQuery(event).timeout_ms ?? 30_000);
  const settled = await ctx.deliveries.settled(
    Number.isFinite(timeout) ? timeout : 30_000,
  );
  return { settled, pending: ctx.deliveries.pendingCount() };
}

function reset(ctx: EmulatorContext): unknown {
  const endpoints = ctx.store.webhookEndpoints.all();
  ctx.deliveries.clear();
  ctx.store.clear();
  ctx.store.webhookEndpoints.replaceAll(endpoints);
  if (ctx.catalog === "example") seedCatalog(ctx.store);
  ctx.apiOutage = false;
  return { ok: true };
}

async function startClock(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const body = await readControlBody(event);
  const now = readWholeNumber(body, "now", { min: 1, max: 32_503_680_000 });
  if (now === undefined) {
    throw new StripeApiError(400, 'Give { "now": <unix seconds> }.', { param: "now" });
  }
  if (ctx.store.customers.all().length > 0) {
    throw new StripeApiError(
      400,
      "The clock can only be set before the first customer: it never moves back.",
    );
  }
  ctx.store.clockOffsetSeconds = now - Math.floor(Date.now() / 1000);
  return { now: ctx.store.now(), offset_seconds: ctx.store.clockOffsetSeconds };
}

async function advance(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const body = await readControlBody(event);
  const seconds = Number(body.seconds ?? 0) + Number(body.days ?? 0) * 86_400;
  return { now: advanceClock(ctx, seconds) };
}

function cardDeclined(message: string): StripeApiError {
  return new StripeApiError(402, message, { type: "card_error", code: "card_declined" });
}

async function completeSession(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const session = requireSession(ctx, getRouterParam(event, "id") ?? "");
  const body = await readControlBody(event);
  const number = readText(body, "card") ?? SUCCEEDING_CARD;
  const payment = readText(body, "payment");
  if (payment !== undefined && payment !== "pending") {
    throw new StripeApiError(400, 'payment may only be "pending".', {
      param: "payment",
    });
  }
  const card = { number, expiry: "12 / 99", cvc: "123" };
  const code = checkTypedPromotionCode(ctx, session, readText(body, "promotion_code"));
  if (code && !code.ok) {
    throw new StripeApiError(400, code.message, { param: "promotion_code" });
  }
  const problem = cardProblem(card, new Date(ctx.store.now() * 1000));
  if (problem) throw cardDeclined(problem);

  completeCheckoutSession(ctx, session, {
    email: readText(body, "email"),
    name: readText(body, "name"),
    card: number,
    promotionCode: code?.promotionCode,
    pendingPayment: payment === "pending",
  });
  return presentSession(ctx, session);
}

async function setCustomerCard(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const customer = requireCustomer(ctx, getRouterParam(event, "id") ?? "");
  const number = readText(await readControlBody(event), "number") ?? "";
  const problem = attachProblem(number);
  if (problem) throw cardDeclined(problem);

  saveCard(ctx, customer.id, number);
  return { customer: customer.id, number: cardOnFile(ctx, customer.id) };
}

async function setStaleReads(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const customer = requireCustomer(ctx, getRouterParam(event, "id") ?? "");
  const body = await readControlBody(event);
  const reads = readWholeNumber(body, "reads", { min: 0, max: 100 }) ?? 1;
  const back = readWholeNumber(body, "versions_back", { min: 1, max: 100 }) ?? 1;

  armStaleReads(ctx, customer.id, reads, back);
  return { customer: customer.id, reads, versions_back: back };
}

async function setOutage(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const api = readFlag(await readControlBody(event), "api");
  if (api === undefined) {
    throw new StripeApiError(400, 'Give { "api": true } or { "api": false }.', {
      param: "api",
    });
  }
  ctx.apiOutage = api;
  return { api };
}

function subscriptionAction(
  ctx: EmulatorContext,
  event: H3Event,
  fail: boolean,
): unknown {
  const sub = requireSubscription(ctx, getRouterParam(event, "id") ?? "");
  if (fail) failPayment(ctx, sub);
  else recoverPayment(ctx, sub);
  return presentSubscription(ctx, sub);
}

type ControlHandler = (ctx: EmulatorContext, event: H3Event) => unknown;

/** Runs a control handler: JSON out, Stripe-shaped errors, state saved after changes. */
function control(ctx: EmulatorContext, handler: ControlHandler) {
  return eventHandler(async (event) => {
    try {
      const result = await handler(ctx, event);
      if (event.method !== "GET") ctx.store.markChanged();
      return result;
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      setResponseStatus(event, error.statusCode);
      return error.toBody();
    }
  });
}

export function registerControlRoutes(router: Router, ctx: EmulatorContext): void {
  router.get("/_emulator/events", control(ctx, listEventsWithDeliveries));
  router.post(
    "/_emulator/events/:id/redeliver",
    control(ctx, (c, event) => redeliverEvent(c, getRouterParam(event, "id") ?? "")),
  );
  router.post("/_emulator/flush", control(ctx, flush));
  router.post("/_emulator/webhooks/settings", control(ctx, changeDeliverySettings));
  router.get("/_emulator/webhooks/held", control(ctx, listHeld));
  router.post("/_emulator/webhooks/release", control(ctx, releaseHeld));
  router.post("/_emulator/webhooks/drop", control(ctx, dropHeld));
  router.post("/_emulator/webhooks/burst", control(ctx, deliverBurst));
  router.post("/_emulator/outage", control(ctx, setOutage));
  router.post("/_emulator/reset", control(ctx, reset));
  router.get(
    "/_emulator/webhook_endpoints",
    control(ctx, () => ctx.store.webhookEndpoints.all()),
  );
  router.get(
    "/_emulator/clock",
    control(ctx, () => ({
      now: ctx.store.now(),
      offset_seconds: ctx.store.clockOffsetSeconds,
    })),
  );
  router.post("/_emulator/clock/advance", control(ctx, advance));
  router.post("/_emulator/clock/start", control(ctx, startClock));
  router.post("/_emulator/checkout/sessions/:id/complete", control(ctx, completeSession));
  router.post("/_emulator/customers/:id/card", control(ctx, setCustomerCard));
  router.post("/_emulator/customers/:id/stale_reads", control(ctx, setStaleReads));
  router.post(
    "/_emulator/subscriptions/:id/payment_failed",
    control(ctx, (c, event) => subscriptionAction(c, event, true)),
  );
  router.post(
    "/_emulator/subscriptions/:id/payment_recovered",
    control(ctx, (c, event) => subscriptionAction(c, event, false)),
  );
}
