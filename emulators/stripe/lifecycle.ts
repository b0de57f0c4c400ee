import { currentPeriodEnd, periodEndFor } from "./billing-periods.ts";
import { expireIfDue } from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { invoiceSubscription, markInvoicePaid, recordFailedAttempt } from "./invoices.ts";
import { chargeCardOnFile, emitChargeOutcome } from "./payments.ts";
import { emitSubscriptionUpdated, endSubscription } from "./subscription-changes.ts";
import type { StoredInvoice, StoredSubscription } from "./types.ts";

/*
 * What happens to subscriptions as time passes: trials announce their end and
 * end, periods renew, failed payments are retried, scheduled cancellations
 * take effect. The test clock (`POST /_emulator/clock/advance`) drives it,
 * so a test can watch a cancellation at period end actually end access.
 *
 * The clock stops at each moment something falls due, in time order across
 * all subscriptions, so events and invoices carry the time they happened.
 * Renewals and retries charge the customer's card on file (payments.ts); a
 * failure leaves the subscription `past_due` and is retried on the schedule
 * in invoices.ts, and after the last failed retry it is `unpaid`. A past_due
 * or unpaid subscription does not start a new period until it is paid.
 */

const DAY_SECONDS = 86_400;
const TRIAL_NOTICE_SECONDS = 3 * DAY_SECONDS;

/** Safety stop for a clock moved years ahead. */
const MAX_STEPS_PER_ADVANCE = 5_000;

/** Something due at `at`; `rank` orders what falls due at the same second. */
interface DueWork {
  at: number;
  rank: number;
  run: () => void;
}

function hasTrialNotice(ctx: EmulatorContext, sub: StoredSubscription): boolean {
  return ctx.store.events.all().some((event) => {
    if (event.type !== "customer.subscription.trial_will_end") return false;
    const object = event.data.object as StoredSubscription;
    return object.id === sub.id && object.trial_end === sub.trial_end;
  });
}

function openInvoiceToRetry(
  ctx: EmulatorContext,
  sub: StoredSubscription,
): StoredInvoice | undefined {
  const invoice = ctx.store.invoices.get(String(sub.latest_invoice));
  if (invoice?.status !== "open" || invoice.next_payment_attempt === null) return;
  return invoice;
}

function startNextPeriod(sub: StoredSubscription): void {
  const start = currentPeriodEnd(sub);
  for (const item of sub.items.data) {
    item.current_period_start = start;
    item.current_period_end = periodEndFor(item.price, start);
  }
}

/** A new period begins (the first paid one after a trial) and is charged. */
function renew(ctx: EmulatorContext, sub: StoredSubscription): void {
  const before = structuredClone(sub);
  startNextPeriod(sub);
  sub.status = "active";

  const outcome = chargeCardOnFile(ctx, String(sub.customer));
  const invoice = invoiceSubscription(ctx, sub, {
    reason: "subscription_cycle",
    paid: outcome === "succeeded",
  });
  if (invoice.status !== "paid") sub.status = "past_due";

  emitSubscriptionUpdated(ctx, before, sub);
  emitChargeOutcome(ctx, invoice, outcome);
}

function markUnpaid(ctx: EmulatorContext, sub: StoredSubscription): void {
  const before = structuredClone(sub);
  sub.status = "unpaid";
  emitSubscriptionUpdated(ctx, before, sub);
}

/** One retry of a failed payment with the card now on file. */
function retryPayment(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  invoice: StoredInvoice,
): void {
  const outcome = chargeCardOnFile(ctx, String(sub.customer));
  if (outcome === "succeeded") {
    recoverPayment(ctx, sub);
    return;
  }

  recordFailedAttempt(invoice);
  emitChargeOutcome(ctx, invoice, outcome);
  if (invoice.next_payment_attempt === null) markUnpaid(ctx, sub);
}

function trialNotice(ctx: EmulatorContext, sub: StoredSubscription): DueWork | null {
  if (sub.status !== "trialing" || sub.trial_end === null) return null;
  if (hasTrialNotice(ctx, sub)) return null;
  return {
    at: sub.trial_end - TRIAL_NOTICE_SECONDS,
    rank: 1,
    run: () => emitEvent(ctx, "customer.subscription.trial_will_end", sub),
  };
}

function paymentRetry(ctx: EmulatorContext, sub: StoredSubscription): DueWork | null {
  const invoice = sub.status === "past_due" ? openInvoiceToRetry(ctx, sub) : undefined;
  if (!invoice?.next_payment_attempt) return null;
  return {
    at: invoice.next_payment_attempt,
    rank: 2,
    run: () => retryPayment(ctx, sub, invoice),
  };
}

function periodEnd(ctx: EmulatorContext, sub: StoredSubscription): DueWork | null {
  if (sub.status !== "active" && sub.status !== "trialing") return null;
  return { at: currentPeriodEnd(sub), rank: 3, run: () => renew(ctx, sub) };
}

function scheduledEnd(ctx: EmulatorContext, sub: StoredSubscription): DueWork | null {
  const cancelAt = sub.cancel_at;
  if (cancelAt === null) return null;
  return {
    at: cancelAt,
    rank: 0,
    run: () => endSubscription(ctx, sub, { endedAt: cancelAt }),
  };
}

/** What a subscription has coming, in no particular order. */
function dueWorkOf(ctx: EmulatorContext, sub: StoredSubscription): DueWork[] {
  const ended = ["canceled", "incomplete", "incomplete_expired"].includes(sub.status);
  if (ended) return [];
  const candidates = [
    scheduledEnd(ctx, sub),
    trialNotice(ctx, sub),
    paymentRetry(ctx, sub),
    periodEnd(ctx, sub),
  ];
  return candidates.filter((work): work is DueWork => work !== null);
}

/** The earliest work due by `until`, across every subscription. */
function nextDueWork(ctx: EmulatorContext, until: number): DueWork | undefined {
  let next: DueWork | undefined;
  for (const sub of ctx.store.subscriptions.all()) {
    for (const work of dueWorkOf(ctx, sub)) {
      if (work.at > until) continue;
      if (!next || work.at < next.at || (work.at === next.at && work.rank < next.rank)) {
        next = work;
      }
    }
  }
  return next;
}

/** Moves the clock to `at`; work overdue from before is done at the current time. */
function moveClockTo(ctx: EmulatorContext, at: number): void {
  const ahead = at - ctx.store.now();
  if (ahead > 0) ctx.store.clockOffsetSeconds += ahead;
}

/** Moves the emulator's clock forward and lets everything that fell due happen. */
export function advanceClock(ctx: EmulatorContext, seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new StripeApiError(
      400,
      "The clock only moves forward: give a positive number of seconds.",
    );
  }
  const target = ctx.store.now() + Math.floor(seconds);

  for (let step = 0; step < MAX_STEPS_PER_ADVANCE; step++) {
    const work = nextDueWork(ctx, target);
    if (!work) break;
    moveClockTo(ctx, work.at);
    work.run();
  }
  moveClockTo(ctx, target);

  for (const session of ctx.store.checkoutSessions.all()) expireIfDue(ctx, session);
  return ctx.store.now();
}

/**
 * The renewal charge is declined: the subscription goes `past_due` with an open
 * invoice, and `invoice.payment_failed` and `customer.subscription.updated` go out.
 * The invoice is retried on the clock like any failed renewal.
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

const RECOVERABLE = ["past_due", "unpaid", "incomplete"];

/** The open invoice is paid: the subscription is active again. */
export function recoverPayment(ctx: EmulatorContext, sub: StoredSubscription): void {
  if (!RECOVERABLE.includes(sub.status)) {
    throw new StripeApiError(
      400,
      "Only a past_due, unpaid or incomplete subscription has a payment to recover.",
    );
  }
  const invoice = ctx.store.invoices.get(String(sub.latest_invoice));
  const before = structuredClone(sub);
  if (invoice && invoice.status === "open") markInvoicePaid(ctx, invoice);
  sub.status = "active";

  if (invoice) emitEvent(ctx, "invoice.paid", invoice);
  emitSubscriptionUpdated(ctx, before, sub);
}
