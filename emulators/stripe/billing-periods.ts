import type Stripe from "stripe";
import type { StoredPrice, StoredSubscription } from "./types.ts";

/*
 * Billing periods. Every item of a subscription shares one period; in this API
 * version it lives on the items (`current_period_start/_end`), not on the
 * subscription.
 */

/** `start` plus `count` intervals, with months clamped to the month's last day. */
export function addInterval(
  start: number,
  interval: Stripe.Price.Recurring.Interval,
  count: number,
): number {
  const date = new Date(start * 1000);
  if (interval === "day") date.setUTCDate(date.getUTCDate() + count);
  if (interval === "week") date.setUTCDate(date.getUTCDate() + 7 * count);
  if (interval === "month" || interval === "year") {
    const months = interval === "year" ? 12 * count : count;
    const day = date.getUTCDate();
    date.setUTCDate(1);
    date.setUTCMonth(date.getUTCMonth() + months);
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0));
    date.setUTCDate(Math.min(day, lastDay.getUTCDate()));
  }
  return Math.floor(date.getTime() / 1000);
}

/** The end of one billing period of `price` starting at `start`. */
export function periodEndFor(price: StoredPrice, start: number): number {
  const recurring = price.recurring;
  if (!recurring) return start;
  return addInterval(start, recurring.interval, recurring.interval_count);
}

/** The current period's end, which every item of a subscription shares. */
export function currentPeriodEnd(sub: StoredSubscription): number {
  return sub.items.data[0]?.current_period_end ?? sub.start_date;
}
