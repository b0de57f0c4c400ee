import {
  type AccessState,
  type Complimentary,
  resolveEffectiveTier,
  type SubscriptionAccess,
  subscriptionAccess,
} from "../../lib/access.ts";
import { isPaidTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { type Db, prepared } from "../db/database.ts";
import { readActiveComplimentary } from "./complimentary.ts";
import { pastDueGraceDays } from "./grace.ts";

/**
 * What a reader may read right now, computed from the subscriptions stored for
 * them (kept in sync with Stripe by the webhook and the checkout return) and
 * from any complimentary access an operator granted them.
 */

export interface SubscriptionSummary {
  id: string;
  status: string;
  tier: string;
  priceId: string | null;
  interval: string | null;
  cancelAtPeriodEnd: boolean;
  /** Unix seconds. */
  currentPeriodEnd: number | null;
  /** Unix seconds at which a scheduled cancellation takes effect. */
  cancelAt: number | null;
  access: AccessState;
}

export interface ReaderEntitlement {
  tier: string;
  /** The subscription that matters most to the reader: the one granting access, else the newest. */
  subscription: SubscriptionSummary | null;
  /** Complimentary access that still runs, or null. */
  complimentary: Complimentary | null;
  notice: string | null;
}

interface SubscriptionRow {
  id: string;
  status: string;
  tier: string;
  price_id: string | null;
  billing_interval: string | null;
  cancel_at_period_end: number;
  current_period_end: number | null;
  cancel_at: number | null;
  past_due_since: number | null;
}

const selectSubscriptions = `SELECT id, status, tier, price_id, billing_interval,
    cancel_at_period_end, current_period_end, cancel_at, past_due_since
  FROM subscription WHERE user_id = ? ORDER BY stripe_created DESC`;

export function readEntitlement(
  db: Db,
  userId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): ReaderEntitlement {
  const rows = prepared(db, selectSubscriptions).all(userId) as SubscriptionRow[];

  const graceDays = pastDueGraceDays();
  const summaries = rows.map((row) => summarize(row, nowSeconds, graceDays));
  const complimentary = readGrantedTier(db, userId, nowSeconds);
  const tier = resolveReaderTier(
    { subscriptions: rows.map(toSubscriptionAccess), complimentary },
    nowSeconds,
  );

  const subscription = summaries.find((s) => s.access !== "none") ?? summaries[0] ?? null;
  return { tier, subscription, complimentary, notice: paymentNotice(subscription) };
}

/**
 * What a reader holds as stored: the inputs of their effective tier. The
 * middleware gets them with the session (server/auth/lucia.ts), in one query.
 */
export interface ReaderHoldings {
  subscriptions: readonly SubscriptionAccess[];
  /** The reader's grant, running or not. */
  complimentary: Complimentary | null;
}

/** The tier a reader's holdings open right now: the rules of lib/access.ts. */
export function resolveReaderTier(
  holdings: ReaderHoldings,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const grant = holdings.complimentary;
  const running = grant && (grant.until === null || grant.until > nowSeconds);
  const paid = running && isPaidTier(tierwall.tiers, grant.tier) ? grant : null;
  return resolveEffectiveTier(
    tierwall.tiers,
    holdings.subscriptions,
    nowSeconds,
    pastDueGraceDays(),
    paid,
  );
}

/**
 * What the reader must do about a payment, shown on every page: during the
 * grace period, and once an unpaid invoice has ended their access.
 */
export function paymentNotice(subscription: SubscriptionSummary | null): string | null {
  if (subscription?.access === "grace") {
    return "Your last payment did not go through. Update your card, or confirm the payment, in Manage billing to keep reading.";
  }
  const owes = subscription?.status === "past_due" || subscription?.status === "unpaid";
  if (owes && subscription?.access === "none") {
    return "Your payment is overdue and your plan is paused. Pay it in Manage billing to read again.";
  }
  return null;
}

/** A running grant of a tier the config still lists as paid. */
function readGrantedTier(
  db: Db,
  userId: string,
  nowSeconds: number,
): Complimentary | null {
  const grant = readActiveComplimentary(db, userId, nowSeconds);
  return grant && isPaidTier(tierwall.tiers, grant.tier) ? grant : null;
}

function toSubscriptionAccess(row: SubscriptionRow): SubscriptionAccess {
  return {
    tier: row.tier,
    status: row.status,
    cancelAt: row.cancel_at,
    pastDueSince: row.past_due_since,
  };
}

function summarize(
  row: SubscriptionRow,
  now: number,
  graceDays: number,
): SubscriptionSummary {
  return {
    id: row.id,
    status: row.status,
    tier: row.tier,
    priceId: row.price_id,
    interval: row.billing_interval,
    cancelAtPeriodEnd: row.cancel_at_period_end === 1,
    currentPeriodEnd: row.current_period_end,
    cancelAt: row.cancel_at,
    access: subscriptionAccess(toSubscriptionAccess(row), now, graceDays),
  };
}
