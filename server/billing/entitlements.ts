import {
  type AccessState,
  resolveEffectiveTier,
  subscriptionAccess,
} from "../../lib/access.ts";
import tierwall from "../../tierwall.config.ts";
import type { Db } from "../db/database.ts";

/**
 * What a reader may read right now, computed from the subscriptions stored for
 * them (kept in sync with Stripe by the webhook and the checkout return).
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

export function readEntitlement(
  db: Db,
  userId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): ReaderEntitlement {
  const rows = db
    .prepare(
      `SELECT id, status, tier, price_id, billing_interval, cancel_at_period_end,
              current_period_end, cancel_at, past_due_since
         FROM subscription WHERE user_id = ? ORDER BY stripe_created DESC`,
    )
    .all(userId) as SubscriptionRow[];

  const graceDays = tierwall.billing.pastDueGraceDays;
  const summaries = rows.map((row) => summarize(row, nowSeconds, graceDays));
  const tier = resolveEffectiveTier(
    tierwall.tiers,
    rows.map((row) => ({
      tier: row.tier,
      status: row.status,
      cancelAt: row.cancel_at,
      pastDueSince: row.past_due_since,
    })),
    nowSeconds,
    graceDays,
  );

  const subscription = summaries.find((s) => s.access !== "none") ?? summaries[0] ?? null;
  const notice =
    subscription?.access === "grace"
      ? "Your last payment failed. Update your card in Manage billing to keep reading."
      : null;
  return { tier, subscription, notice };
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
    access: subscriptionAccess(
      {
        tier: row.tier,
        status: row.status,
        cancelAt: row.cancel_at,
        pastDueSince: row.past_due_since,
      },
      now,
      graceDays,
    ),
  };
}
