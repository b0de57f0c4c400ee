import { currentPeriodEnd, periodEndFor } from "./billing-periods.ts";
import { expireIfDue } from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { invoiceSubscription, markInvoicePaid } from "./invoices.ts";
import { emitSubscriptionUpdated, endSubscription } from "./subscription-changes.ts";
import type { StoredSubscription } from "./types.ts";

/*
 * What happens to subscriptions as time passes: renewals, trials ending,
 * scheduled cancellations taking effect, and failed payments. The test clock
 * (`POST /_emulator/clock/advance`) drives it, so a test can watch a
 * cancellation at period end actually end access.
 */

/** Safety stop for a clock moved years ahead. */
const MAX_RENEWALS_PER_ADVANCE = 500;

function renew(ctx: EmulatorContext, sub: StoredSubscription): void {
  const before = structuredClone(sub);
  const start = currentPeriodEnd(sub);
  for (const item of sub.items.data) {
    item.current_period_start = start;
    item.current_period_end = periodEndFor(item.price, start);
  }
  if (sub.status === "trialing") sub.status = "active";
  const wasPastDue = sub.status === "past_due";
  const invoice = invoiceSubscription(ctx, sub, {
    reason: "subscription_cycle",
    paid: !wasPastDue,
  });

  emitSubscriptionUpdated(ctx, before, sub);
  emitEvent(ctx, wasPastDue ? "invoice.payment_failed" : "invoice.paid", invoice);
}

function settleDueSubscription(ctx: EmulatorContext, sub: StoredSubscription): void {
  const now = ctx.store.now();
  for (let renewals = 0; renewals < MAX_RENEWALS_PER_ADVANCE; renewals++) {
    if (sub.status === "canceled") return;
    const periodEnd = currentPeriodEnd(sub);
    if (sub.cancel_at !== null && sub.cancel_at <= Math.min(now, periodEnd)) {
      endSubscription(ctx, sub, { endedAt: sub.cancel_at });
      return;
    }
    if (periodEnd > now) return;
    renew(ctx, sub);
  }
}

/** Moves the emulator's clock forward and lets everything that fell due happen. */
export function advanceClock(ctx: EmulatorContext, seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new StripeApiError(
      400,
      "The clock only moves forward: give a positive number of seconds.",
    );
  }
  ctx.store.clockOffsetSeconds += Math.floor(seconds);

  for (const sub of ctx.store.subscriptions.all()) settleDueSubscription(ctx, sub);
  for (const session of ctx.store.checkoutSessions.all()) expireIfDue(ctx, session);
  return ctx.store.now();
}

/**
 * The renewal charge is declined: the subscription goes `past_due` with an open
 * invoice, and `invoice.payment_failed` and `customer.subscription.updated` go out.
 */
export function failPayment(ctx: EmulatorContext, sub: StoredSubscription): void {
  if (sub.status !== "active" && sub.status !== "trialing") {
    throw new StripeApiError(400, `A ${sub.status} subscription has no payment to fail.`);
  }
  const before = structuredClone(sub);
  sub.status = "past_due";
  const invoice = invoiceSubscription(ctx, sub, {
    reason: "subscription_cycle",
    paid: false,
  });

  emitEvent(ctx, "invoice.payment_failed", invoice);
  emitSubscriptionUpdated(ctx, before, sub);
}

/** The reader fixes their card: the open invoice is paid and the subscription is active again. */
export function recoverPayment(ctx: EmulatorContext, sub: StoredSubscription): void {
  if (sub.status !== "past_due") {
    throw new StripeApiError(
      400,
      "Only a past_due subscription has a payment to recover.",
    );
  }
  const invoice = ctx.store.invoices.get(String(sub.latest_invoice));
  const before = structuredClone(sub);
  if (invoice && invoice.status === "open") markInvoicePaid(ctx, invoice);
  sub.status = "active";

  if (invoice) emitEvent(ctx, "invoice.paid", invoice);
  emitSubscriptionUpdated(ctx, before, sub);
}
