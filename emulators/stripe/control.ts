/**
 * Test-only control routes. They are not part of Stripe's API, need no key,
 * and answer JSON.
 *
 *   GET  /_emulator/events
 *        Every event, oldest first, with its webhook deliveries:
 *        [{ id, type, created, object_id, deliveries: [{ endpoint, url, state:
 *        "pending" | "succeeded" | "failed", attempts: [{ at, status, error? }] }] }]
 *   POST /_emulator/flush?timeout_ms=30000
 *        Waits until no webhook delivery is pending (retries included), then
 *        answers { settled: true, pending: 0 }; on timeout { settled: false, pending }.
 *   POST /_emulator/reset
 *        Forgets customers, sessions, subscriptions, invoices, events and
 *        deliveries, rewinds the clock and restores the starting catalog.
 *        Webhook endpoints (and their secrets) are kept.
 *   GET  /_emulator/webhook_endpoints
 *        The endpoints with their signing secrets, which the API shows only once.
 *   GET  /_emulator/clock
 *        { now, offset_seconds }: the emulator's time in Unix seconds.
 *   POST /_emulator/clock/advance   { "seconds": n } or { "days": n }
 *        Moves time forward: periods renew (`invoice.paid`), trials end,
 *        scheduled cancellations end subscriptions (`customer.subscription.deleted`),
 *        open Checkout Sessions past `expires_at` expire. Answers { now }.
 *   POST /_emulator/checkout/sessions/:id/complete   { "email"?, "name"?, "card"? }
 *        Pays a session as the hosted page would (card 4242… by default);
 *        answers the completed session, or 402 with the decline message.
 *   POST /_emulator/subscriptions/:id/payment_failed
 *        The renewal charge is declined: status `past_due`, an open invoice,
 *        `invoice.payment_failed` and `customer.subscription.updated`.
 *   POST /_emulator/subscriptions/:id/payment_recovered
 *        The open invoice is paid: status `active`, `invoice.paid` and
 *        `customer.subscription.updated`.
 *
 * Bodies may be JSON or form-encoded.
 */
import {
  eventHandler,
  getQuery,
  getRouterParam,
  type H3Event,
  type Router,
  readBody,
  setResponseStatus,
} from "h3";
import { seedCatalog } from "./catalog.ts";
import { completeCheckoutSession, presentSession, requireSession } from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";
import { advanceClock, failPayment, recoverPayment } from "./lifecycle.ts";
import { presentSubscription, requireSubscription } from "./subscriptions.ts";
import { cardProblem, SUCCEEDING_CARD } from "./test-cards.ts";

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
  seedCatalog(ctx.store);
  return { ok: true };
}

async function advance(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const body = ((await readBody(event)) ?? {}) as { seconds?: unknown; days?: unknown };
  const seconds = Number(body.seconds ?? 0) + Number(body.days ?? 0) * 86_400;
  return { now: advanceClock(ctx, seconds) };
}

async function completeSession(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const session = requireSession(ctx, getRouterParam(event, "id") ?? "");
  const body = ((await readBody(event)) ?? {}) as {
    email?: string;
    name?: string;
    card?: string;
  };
  const card = { number: body.card ?? SUCCEEDING_CARD, expiry: "12 / 99", cvc: "123" };
  const problem = cardProblem(card, new Date(ctx.store.now() * 1000));
  if (problem) {
    throw new StripeApiError(402, problem, { type: "card_error", code: "card_declined" });
  }

  completeCheckoutSession(ctx, session, { email: body.email, name: body.name });
  return presentSession(ctx, session);
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
  router.post("/_emulator/flush", control(ctx, flush));
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
  router.post("/_emulator/checkout/sessions/:id/complete", control(ctx, completeSession));
  router.post(
    "/_emulator/subscriptions/:id/payment_failed",
    control(ctx, (c, event) => subscriptionAction(c, event, true)),
  );
  router.post(
    "/_emulator/subscriptions/:id/payment_recovered",
    control(ctx, (c, event) => subscriptionAction(c, event, false)),
  );
}
