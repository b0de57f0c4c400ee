import type Stripe from "stripe";
import { z } from "zod";
import { addInterval } from "./billing-periods.ts";
import type { EmulatorContext } from "./context.ts";
import { invalidParam, noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { newCode } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  integer,
  list,
  mergeMetadata,
  metadata,
  metadataUpdate,
  oneOf,
  pagination,
  parseParams,
  positiveInteger,
  readExpand,
  text,
} from "./params.ts";
import type { StoredCoupon } from "./types.ts";

/*
 * Coupons, as `stripe.coupons.*` manages them: a percentage or an amount off,
 * once, for some months or forever. A coupon reaches a reader through a
 * promotion code (promotion-codes.ts) typed into Checkout; discounts.ts applies
 * it to the subscription and its invoices.
 */

/** A number as a form field sends it: "20" or "12.5". */
const decimal = text
  .regex(/^\d+(\.\d+)?$/, { error: "Invalid decimal" })
  .transform(Number);

const createSchema = z.object({
  id: text.regex(/^[A-Za-z0-9_-]+$/, { error: "Invalid coupon id" }).optional(),
  name: text.max(40, { error: "Invalid string (at most 40 characters)" }).optional(),
  percent_off: decimal.optional(),
  amount_off: positiveInteger.optional(),
  currency: text.optional(),
  duration: oneOf(["forever", "once", "repeating"]).optional(),
  duration_in_months: positiveInteger.optional(),
  max_redemptions: positiveInteger.optional(),
  redeem_by: integer.optional(),
  applies_to: z.object({ products: list(text) }).optional(),
  metadata: metadata.optional(),
  expand,
});

type CreateParams = z.output<typeof createSchema>;

function checkAmount(params: CreateParams): void {
  const percent = params.percent_off;
  if ((percent === undefined) === (params.amount_off === undefined)) {
    throw invalidParam("percent_off", "Give exactly one of amount_off and percent_off.");
  }
  if (percent !== undefined && (percent <= 0 || percent > 100)) {
    throw invalidParam("percent_off", "percent_off must be more than 0 and at most 100.");
  }
  if (params.amount_off !== undefined && !params.currency) {
    throw invalidParam("currency", "An amount_off coupon needs a currency.");
  }
}

function checkCreateParams(ctx: EmulatorContext, params: CreateParams): void {
  checkAmount(params);
  const repeating = params.duration === "repeating";
  if (repeating !== (params.duration_in_months !== undefined)) {
    throw invalidParam(
      "duration_in_months",
      "duration_in_months is required for a repeating coupon, and only for one.",
    );
  }
  if (params.redeem_by !== undefined && params.redeem_by <= ctx.store.now()) {
    throw invalidParam("redeem_by", "redeem_by must be in the future.");
  }
  if (params.id && ctx.store.coupons.get(params.id)) {
    throw new StripeApiError(400, "Coupon already exists.", {
      param: "id",
      code: "resource_already_exists",
    });
  }
}

function buildCoupon(params: CreateParams, now: number): StoredCoupon {
  return {
    id: params.id ?? newCode(),
    object: "coupon",
    amount_off: params.amount_off ?? null,
    ...(params.applies_to ? { applies_to: params.applies_to } : {}),
    created: now,
    currency: params.amount_off !== undefined ? (params.currency ?? null) : null,
    duration: params.duration ?? "once",
    duration_in_months: params.duration_in_months ?? null,
    livemode: false,
    max_redemptions: params.max_redemptions ?? null,
    metadata: params.metadata ?? {},
    name: params.name ?? null,
    percent_off: params.percent_off ?? null,
    redeem_by: params.redeem_by ?? null,
    times_redeemed: 0,
    valid: true,
  };
}

export function createCoupon(ctx: EmulatorContext, raw: unknown): StoredCoupon {
  const params = parseParams(createSchema, raw);
  checkCreateParams(ctx, params);
  const coupon = ctx.store.coupons.insert(buildCoupon(params, ctx.store.now()));
  emitEvent(ctx, "coupon.created", coupon);
  return structuredClone(coupon);
}

/**
 * Whether the coupon can still be redeemed. Stripe turns `valid` off once
 * `redeem_by` passes or `max_redemptions` is reached; it is worked out when
 * the coupon is read, so the test clock moves it too.
 */
export function refreshValidity(ctx: EmulatorContext, coupon: StoredCoupon): boolean {
  const expired = coupon.redeem_by !== null && coupon.redeem_by <= ctx.store.now();
  const usedUp =
    coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions;
  coupon.valid = !expired && !usedUp;
  return coupon.valid;
}

export function findCoupon(ctx: EmulatorContext, id: string): StoredCoupon | undefined {
  const coupon = ctx.store.coupons.get(id);
  if (coupon) refreshValidity(ctx, coupon);
  return coupon;
}

export function requireCoupon(
  ctx: EmulatorContext,
  id: string,
  param = "id",
): StoredCoupon {
  const coupon = findCoupon(ctx, id);
  if (!coupon) throw noSuchObject("coupon", id, param);
  return coupon;
}

export function retrieveCoupon(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCoupon {
  readExpand(raw);
  return structuredClone(requireCoupon(ctx, id));
}

const updateSchema = z.object({
  name: text.max(40, { error: "Invalid string (at most 40 characters)" }).optional(),
  metadata: metadataUpdate.optional(),
  expand,
});

/** Only the name and metadata of a coupon can change; its terms cannot. */
export function updateCoupon(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredCoupon {
  const coupon = requireCoupon(ctx, id);
  const params = parseParams(updateSchema, raw);
  const before = structuredClone(coupon);

  if (params.name !== undefined) coupon.name = params.name;
  coupon.metadata = mergeMetadata(coupon.metadata ?? {}, params.metadata);
  const previous = changedAttributes(before, coupon);
  if (previous) emitEvent(ctx, "coupon.updated", coupon, previous);
  return structuredClone(coupon);
}

/**
 * Deleting a coupon stops new redemptions; discounts already applied with it
 * keep running, as on Stripe.
 */
export function deleteCoupon(ctx: EmulatorContext, id: string): Stripe.DeletedCoupon {
  const coupon = requireCoupon(ctx, id);
  ctx.store.coupons.delete(id);
  emitEvent(ctx, "coupon.deleted", coupon);
  return { id, object: "coupon", deleted: true };
}

export function listCoupons(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredCoupon> {
  const params = parseParams(z.object({ ...pagination, expand }), raw);
  const rows = ctx.store.coupons.newestFirst();
  for (const coupon of rows) refreshValidity(ctx, coupon);
  return listPage(ctx, rows, params, "/v1/coupons", (row) => structuredClone(row));
}

/**
 * How much the coupon takes off `amount` of a line in `currency`: a share for
 * a percentage, at most the amount for an amount off, nothing for a product
 * it does not apply to or (an amount off) another currency.
 */
export function couponAmountOff(
  coupon: StoredCoupon,
  line: { amount: number; currency: string; product: string },
): number {
  const products = coupon.applies_to?.products;
  if (products && !products.includes(line.product)) return 0;
  if (coupon.percent_off !== null) {
    return Math.round((line.amount * coupon.percent_off) / 100);
  }
  if (coupon.currency !== line.currency) return 0;
  return Math.min(coupon.amount_off ?? 0, line.amount);
}

/** When a discount of this coupon starting at `start` ends; null for none. */
export function discountEnd(coupon: StoredCoupon, start: number): number | null {
  if (coupon.duration !== "repeating" || coupon.duration_in_months === null) {
    return null;
  }
  return addInterval(start, "month", coupon.duration_in_months);
}
