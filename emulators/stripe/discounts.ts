import type Stripe from "stripe";
import type { EmulatorContext } from "./context.ts";
import { couponAmountOff, discountEnd, findCoupon, refreshValidity } from "./coupons.ts";
import { emitEvent } from "./events.ts";
import { newId } from "./ids.ts";
import type {
  StoredCoupon,
  StoredDiscount,
  StoredInvoice,
  StoredPromotionCode,
  StoredSubscription,
} from "./types.ts";

/*
 * A discount is a coupon at work on one subscription: made when a reader pays
 * with a promotion code, listed in `subscription.discounts` (as IDs, which
 * `expand[]=discounts` inlines) and taken off each invoice while it runs. A
 * `once` coupon is spent by the first invoice that costs anything (a trial's
 * $0 invoice does not spend it), a `repeating` one ends after its months, a
 * `forever` one never.
 */

function buildDiscount(
  sub: StoredSubscription,
  coupon: StoredCoupon,
  promo: StoredPromotionCode,
  checkoutSession: string | null,
  now: number,
): StoredDiscount {
  return {
    id: newId("di"),
    object: "discount",
    checkout_session: checkoutSession,
    customer: String(sub.customer),
    customer_account: null,
    end: discountEnd(coupon, now),
    invoice: null,
    invoice_item: null,
    promotion_code: promo.id,
    source: { coupon: coupon.id, type: "coupon" },
    start: now,
    subscription: sub.id,
    subscription_item: null,
  };
}

/**
 * Applies a promotion code to a subscription that is starting, and counts the
 * redemption on the code and its coupon. Call it before the first invoice.
 */
export function attachDiscount(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  promo: StoredPromotionCode,
  checkoutSession: string | null,
): StoredDiscount | null {
  const coupon = findCoupon(ctx, String(promo.promotion.coupon));
  if (!coupon) return null;
  const discount = buildDiscount(sub, coupon, promo, checkoutSession, ctx.store.now());

  ctx.store.discounts.insert(discount);
  sub.discounts = [...sub.discounts, discount.id];
  coupon.times_redeemed += 1;
  promo.times_redeemed += 1;
  refreshValidity(ctx, coupon);
  emitEvent(ctx, "customer.discount.created", discount);
  return discount;
}

/** The subscription's discounts still running at `now`, with their coupons. */
function runningDiscounts(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  now: number,
): { discount: StoredDiscount; coupon: StoredCoupon }[] {
  return sub.discounts.flatMap((entry) => {
    const discount = ctx.store.discounts.get(String(entry));
    if (!discount || (discount.end !== null && discount.end <= now)) return [];
    const coupon = couponOf(ctx, discount);
    return coupon ? [{ discount, coupon }] : [];
  });
}

/**
 * The discount's coupon. A deleted coupon keeps discounting what it was
 * applied to, as on Stripe, so it is then read from its creation event.
 */
function couponOf(
  ctx: EmulatorContext,
  discount: StoredDiscount,
): StoredCoupon | undefined {
  const id = String(discount.source.coupon);
  const stored = ctx.store.coupons.get(id);
  if (stored) return stored;
  const created = ctx.store.events
    .all()
    .find(
      (event) =>
        event.type === "coupon.created" && (event.data.object as StoredCoupon).id === id,
    );
  return created?.data.object as StoredCoupon | undefined;
}

/**
 * Takes the running discounts off an invoice's lines (a line's `amount`
 * stays the price, as on Stripe; its `discount_amounts` say what came off)
 * and answers the IDs applied and the total taken off.
 */
export function discountLines(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  lines: Stripe.InvoiceLineItem[],
): { discounts: string[]; amounts: Stripe.Invoice.TotalDiscountAmount[] } {
  const amounts: Stripe.Invoice.TotalDiscountAmount[] = [];
  for (const { discount, coupon } of runningDiscounts(ctx, sub, ctx.store.now())) {
    const off = discountEachLine(discount, coupon, lines);
    if (off > 0) amounts.push({ amount: off, discount: discount.id });
  }
  return { discounts: amounts.map((entry) => String(entry.discount)), amounts };
}

/** Applies one coupon across the lines; an amount off is spread until it runs out. */
function discountEachLine(
  discount: StoredDiscount,
  coupon: StoredCoupon,
  lines: Stripe.InvoiceLineItem[],
): number {
  let budget = coupon.amount_off ?? Number.POSITIVE_INFINITY;
  let total = 0;
  for (const line of lines) {
    const already = line.discount_amounts?.reduce((sum, d) => sum + d.amount, 0) ?? 0;
    const product = line.pricing?.price_details?.product ?? "";
    const remaining = { amount: line.amount - already, currency: line.currency, product };
    const off = Math.min(couponAmountOff(coupon, remaining), budget);
    if (off <= 0) continue;
    budget -= off;
    total += off;
    line.discount_amounts = [
      ...(line.discount_amounts ?? []),
      { amount: off, discount: discount.id },
    ];
    line.discounts = [...line.discounts, discount.id];
  }
  return total;
}

/**
 * After an invoice: a `once` discount that took something off it, or a
 * `repeating` one whose months are over, leaves the subscription, and
 * `customer.discount.deleted` says so.
 */
export function endSpentDiscounts(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  invoice: StoredInvoice,
): void {
  const used = new Set(
    (invoice.total_discount_amounts ?? []).map((entry) => String(entry.discount)),
  );
  sub.discounts = sub.discounts.filter((entry) => {
    const discount = ctx.store.discounts.get(String(entry));
    if (!discount || !isOver(ctx, discount, used)) return true;
    emitEvent(ctx, "customer.discount.deleted", discount);
    return false;
  });
}

function isOver(
  ctx: EmulatorContext,
  discount: StoredDiscount,
  used: Set<string>,
): boolean {
  if (discount.end !== null && discount.end <= ctx.store.now()) return true;
  return used.has(discount.id) && couponOf(ctx, discount)?.duration === "once";
}

/**
 * Takes a promotion code's coupon off a Checkout's line items (their
 * `amount_discount` and `amount_total`) and answers the total taken off, for
 * the session's `total_details`. Trials show it too: it is what the first paid
 * invoice will take off.
 */
export function discountCheckoutItems(
  ctx: EmulatorContext,
  promo: StoredPromotionCode,
  items: Stripe.LineItem[],
): number {
  const coupon = findCoupon(ctx, String(promo.promotion.coupon));
  if (!coupon) return 0;
  let budget = coupon.amount_off ?? Number.POSITIVE_INFINITY;
  let total = 0;
  for (const item of items) {
    const product = String(item.price?.product ?? "");
    const line = { amount: item.amount_subtotal, currency: item.currency, product };
    const off = Math.min(couponAmountOff(coupon, line), budget);
    budget -= off;
    total += off;
    item.amount_discount = off;
    item.amount_total = item.amount_subtotal - off;
  }
  return total;
}
