import type { EmailToQueue } from "./outbox.ts";
import type { TemplateName } from "./templates.ts";

/**
 * Which emails a change to one stored subscription calls for. The billing sync
 * compares the row it had with the row Stripe reports now and queues what this
 * returns in the same transaction as the write, so an email exists exactly when
 * the change it announces was stored, and a sync that finds nothing changed
 * (a replayed or duplicate webhook) queues nothing.
 *
 * Idempotency keys name the transition: the subscription, what changed, and the
 * stored version it changed from (its `updated_at`), so one transition is one
 * email however often it is seen, while a reader who cancels, resumes and
 * cancels again hears about both cancellations. A failed payment is keyed by
 * its invoice alone: Stripe's retries of that invoice send nothing more.
 */

/** The stored row before the sync. */
export interface StoredState {
  status: string;
  tier: string;
  cancelAt: number | null;
  latestInvoiceId: string | null;
  /** Unix seconds of the sync that stored it: the version a transition leaves. */
  updatedAt: number;
}

/** The row as Stripe reports it now. */
export interface ReportedState {
  id: string;
  status: string;
  tier: string;
  interval: string | null;
  currentPeriodEnd: number | null;
  cancelAt: number | null;
  latestInvoiceId?: string;
}

export interface BillingEmailContext {
  /** The reader's address. */
  to: string;
  tierName: (tierId: string) => string;
  graceDays: number;
  /** When the reader was first seen past due, as the sync just stored it. */
  pastDueSince: number | null;
}

export type QueuedEmail = { [T in TemplateName]: EmailToQueue<T> }[TemplateName];

const GRANTING = new Set(["active", "trialing"]);

/** Statuses in which a subscription no longer grants its tier, with why. */
const ENDED = new Map<string, "canceled" | "unpaid" | "expired">([
  ["canceled", "canceled"],
  ["unpaid", "unpaid"],
  ["incomplete_expired", "expired"],
]);

export function billingEmails(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail[] {
  return [
    started(before, after, context),
    planChanged(before, after, context),
    cancellationScheduled(before, after, context),
    paymentFailed(before, after, context),
    ended(before, after, context),
  ].filter((email): email is QueuedEmail => email !== null);
}

/** New and granting access, or the first payment of an incomplete one went through. */
function started(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail | null {
  if (!GRANTING.has(after.status)) return null;
  if (before && before.status !== "incomplete") return null;

  return {
    to: context.to,
    template: "subscription-started",
    data: {
      tierName: context.tierName(after.tier),
      interval: after.interval,
      renewsAt: isoOrNull(after.currentPeriodEnd),
    },
    idempotencyKey: `subscription-started:${after.id}`,
  };
}

function planChanged(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail | null {
  if (!before || before.tier === after.tier || ENDED.has(after.status)) return null;

  return {
    to: context.to,
    template: "plan-changed",
    data: {
      fromTierName: context.tierName(before.tier),
      toTierName: context.tierName(after.tier),
    },
    idempotencyKey: `plan-changed:${after.id}:${before.tier}>${after.tier}@${before.updatedAt}`,
  };
}

function cancellationScheduled(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail | null {
  if (!before || before.cancelAt !== null || after.cancelAt === null) return null;
  if (ENDED.has(after.status)) return null;

  return {
    to: context.to,
    template: "cancellation-scheduled",
    data: {
      tierName: context.tierName(after.tier),
      endsAt: new Date(after.cancelAt * 1000).toISOString(),
    },
    idempotencyKey: `cancellation-scheduled:${after.id}:${after.cancelAt}@${before.updatedAt}`,
  };
}

/** Falling past due on an invoice not announced before. */
function paymentFailed(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail | null {
  if (after.status !== "past_due") return null;
  const invoiceId = after.latestInvoiceId ?? null;
  const sameInvoice = before?.latestInvoiceId === invoiceId;
  if (before?.status === "past_due" && sameInvoice) return null;

  const graceEnds =
    context.pastDueSince !== null && context.graceDays > 0
      ? context.pastDueSince + context.graceDays * 86_400
      : null;
  return {
    to: context.to,
    template: "payment-failed",
    data: { tierName: context.tierName(after.tier), graceEndsAt: isoOrNull(graceEnds) },
    idempotencyKey: invoiceId
      ? `payment-failed:${invoiceId}`
      : `payment-failed:${after.id}@${context.pastDueSince}`,
  };
}

/** Into canceled, unpaid or incomplete_expired from a stored status that was not. */
function ended(
  before: StoredState | undefined,
  after: ReportedState,
  context: BillingEmailContext,
): QueuedEmail | null {
  const reason = ENDED.get(after.status);
  if (!before || !reason || before.status === after.status) return null;
  if (before.status === "canceled" || before.status === "incomplete_expired") return null;

  return {
    to: context.to,
    template: "subscription-ended",
    data: { tierName: context.tierName(after.tier), reason },
    idempotencyKey: `subscription-ended:${after.id}:${after.status}@${before.updatedAt}`,
  };
}

function isoOrNull(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString();
}
