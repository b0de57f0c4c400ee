import { formatAmount } from "../../../lib/money.ts";
import type { StoredPrice } from "../types.ts";

const dateFormat = new Intl.DateTimeFormat("en-US", {
  dateStyle: "long",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat("en-US", {
  dateStyle: "medium",
  timeStyle: "medium",
  timeZone: "UTC",
});

export function formatDate(unixSeconds: number): string {
  return dateFormat.format(new Date(unixSeconds * 1000));
}

export function formatDateTime(unixSeconds: number): string {
  return `${dateTimeFormat.format(new Date(unixSeconds * 1000))} UTC`;
}

/** "per month", "per year", "every 3 months"; empty for one-time prices. */
export function formatInterval(price: StoredPrice): string {
  const recurring = price.recurring;
  if (!recurring) return "";
  if (recurring.interval_count === 1) return `per ${recurring.interval}`;
  return `every ${recurring.interval_count} ${recurring.interval}s`;
}

/** "$12.00 per month". */
export function formatPrice(price: StoredPrice): string {
  const amount = formatAmount(price.unit_amount ?? 0, price.currency);
  return `${amount} ${formatInterval(price)}`.trim();
}
