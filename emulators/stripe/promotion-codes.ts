import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { findCoupon, requireCoupon } from "./coupons.ts";
import { requireCustomer } from "./customers.ts";
import { invalidParam, noSuchObject, StripeApiError } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { expandFrom } from "./expand.ts";
import { newCode, newId } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  integer,
  mergeMetadata,
  metadata,
  metadataUpdate,
  pagination,
  parseParams,
  positiveInteger,
  readExpand,
  text,
} from "./params.ts";
import type { StoredPromotionCode } from "./types.ts";

/*
 * Promotion codes, as `stripe.promotionCodes.*` manages them: the code a
 * reader types into Checkout, standing for a coupon, with limits of its own
 * (an end date, a number of uses, one customer, a first purchase, a minimum
 * amount). Codes match without regard to case; two active codes cannot share
 * one spelling.
 */

const codeParam = text.regex(/^[A-Za-z0-9_-]{1,500}$/, {
  error: "Invalid code: letters, digits, dashes and underscores only",
});

const createSchema = z.object({
  promotion: z.object({ type: z.literal("coupon"), coupon: text }),
  code: codeParam.optional(),
  active: flag.optional(),
  customer: text.optional(),
  expires_at: integer.optional(),
  max_redemptions: positiveInteger.optional(),
  metadata: metadata.optional(),
  restrictions: z
    .object({
      first_time_transaction: flag.optional(),
      minimum_amount: positiveInteger.optional(),
      minimum_amount_currency: text.optional(),
    })
    .optional(),
  expand,
});

type CreateParams = z.output<typeof createSchema>;

/** The active code spelled `code`, whatever its case. */
function activeCodeSpelled(
  ctx: EmulatorContext,
  code: string,
): StoredPromotionCode | undefined {
  const wanted = code.toUpperCase();
  return ctx.store.promotionCodes
    .all()
    .find((promo) => promo.active && promo.code.toUpperCase() === wanted);
}

function checkCreateParams(ctx: EmulatorContext, params: CreateParams): void {
  requireCoupon(ctx, params.promotion.coupon, "promotion[coupon]");
  if (params.customer) requireCustomer(ctx, params.customer, "customer");
  if (params.expires_at !== undefined && params.expires_at <= ctx.store.now()) {
    throw invalidParam("expires_at", "expires_at must be in the future.");
  }
  const minimum = params.restrictions?.minimum_amount;
  if (minimum !== undefined && !params.restrictions?.minimum_amount_currency) {
    throw invalidParam(
      "restrictions[minimum_amount_currency]",
      "A minimum_amount needs a minimum_amount_currency.",
    );
  }
  if (params.code && params.active !== false && activeCodeSpelled(ctx, params.code)) {
    throw new StripeApiError(
      400,
      "An active promotion code with that code already exists.",
      { param: "code", code: "resource_already_exists" },
    );
  }
}

function buildPromotionCode(params: CreateParams, now: number): StoredPromotionCode {
  const restrictions = params.restrictions ?? {};
  return {
    id: newId("promo"),
    object: "promotion_code",
    active: params.active ?? true,
    code: params.code ?? newCode(),
    created: now,
    customer: params.customer ?? null,
    customer_account: null,
    expires_at: params.expires_at ?? null,
    livemode: false,
    max_redemptions: params.max_redemptions ?? null,
    metadata: params.metadata ?? {},
    promotion: { coupon: params.promotion.coupon, type: "coupon" },
    restrictions: {
      first_time_transaction: restrictions.first_time_transaction ?? false,
      minimum_amount: restrictions.minimum_amount ?? null,
      minimum_amount_currency:
        restrictions.minimum_amount_currency?.toLowerCase() ?? null,
    },
    times_redeemed: 0,
  };
}

export function createPromotionCode(
  ctx: EmulatorContext,
  raw: unknown,
): StoredPromotionCode {
  const params = parseParams(createSchema, raw);
  checkCreateParams(ctx, params);
  const promo = buildPromotionCode(params, ctx.store.now());
  ctx.store.promotionCodes.insert(promo);
  emitEvent(ctx, "promotion_code.created", promo);
  return expandFrom(ctx, promo, params.expand);
}

function requirePromotionCode(ctx: EmulatorContext, id: string): StoredPromotionCode {
  const promo = ctx.store.promotionCodes.get(id);
  if (!promo) throw noSuchObject("promotion_code", id);
  return promo;
}

export function retrievePromotionCode(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredPromotionCode {
  return expandFrom(ctx, requirePromotionCode(ctx, id), readExpand(raw));
}

const updateSchema = z.object({
  active: flag.optional(),
  metadata: metadataUpdate.optional(),
  expand,
});

export function updatePromotionCode(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): StoredPromotionCode {
  const promo = requirePromotionCode(ctx, id);
  const params = parseParams(updateSchema, raw);
  const before = structuredClone(promo);
  if (params.active === true && !promo.active && activeCodeSpelled(ctx, promo.code)) {
    throw invalidParam("active", "Another active promotion code has this code.");
  }

  if (params.active !== undefined) promo.active = params.active;
  promo.metadata = mergeMetadata(promo.metadata ?? {}, params.metadata);
  const previous = changedAttributes(before, promo);
  if (previous) emitEvent(ctx, "promotion_code.updated", promo, previous);
  return expandFrom(ctx, promo, params.expand);
}

const listSchema = z.object({
  ...pagination,
  active: flag.optional(),
  code: text.optional(),
  coupon: text.optional(),
  customer: text.optional(),
  expand,
});

export function listPromotionCodes(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredPromotionCode> {
  const params = parseParams(listSchema, raw);
  const code = params.code?.toUpperCase();
  const rows = ctx.store.promotionCodes.newestFirst().filter((promo) => {
    if (params.active !== undefined && promo.active !== params.active) return false;
    if (code && promo.code.toUpperCase() !== code) return false;
    if (params.coupon && promo.promotion.coupon !== params.coupon) return false;
    return !params.customer || promo.customer === params.customer;
  });
  return listPage(ctx, rows, params, "/v1/promotion_codes", (row) =>
    structuredClone(row),
  );
}

/** What a reader is buying when they type a code into Checkout. */
export interface Purchase {
  /** Null when Checkout will create the customer. */
  customer: string | null;
  currency: string;
  /** Before any discount, in the currency's minor unit. */
  amount: number;
}

export type Redemption =
  | { ok: true; promotionCode: StoredPromotionCode }
  | { ok: false; message: string };

/**
 * Finds the code a reader typed and checks it may be used for this purchase;
 * the refusal reads as the hosted page shows it.
 */
export function redeemablePromotionCode(
  ctx: EmulatorContext,
  typed: string,
  purchase: Purchase,
): Redemption {
  const promo = activeCodeSpelled(ctx, typed.trim());
  if (!promo) return { ok: false, message: "This code is not valid." };
  const message = redemptionProblem(ctx, promo, purchase);
  return message ? { ok: false, message } : { ok: true, promotionCode: promo };
}

function redemptionProblem(
  ctx: EmulatorContext,
  promo: StoredPromotionCode,
  purchase: Purchase,
): string | null {
  const coupon = findCoupon(ctx, String(promo.promotion.coupon));
  if (promo.expires_at !== null && promo.expires_at <= ctx.store.now()) {
    return "This code has expired.";
  }
  const usedUp =
    promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions;
  if (usedUp || !coupon?.valid) return "This code can no longer be used.";
  if (promo.customer !== null && promo.customer !== purchase.customer) {
    return "This code is not valid for your account.";
  }
  if (coupon.amount_off !== null && coupon.currency !== purchase.currency) {
    return "This code is not valid for this currency.";
  }
  return restrictionProblem(ctx, promo.restrictions, purchase);
}

function restrictionProblem(
  ctx: EmulatorContext,
  restrictions: StoredPromotionCode["restrictions"],
  purchase: Purchase,
): string | null {
  const minimum = restrictions.minimum_amount;
  const sameCurrency = restrictions.minimum_amount_currency === purchase.currency;
  if (minimum !== null && (!sameCurrency || purchase.amount < minimum)) {
    return "This code needs a larger purchase.";
  }
  if (restrictions.first_time_transaction && hasPaid(ctx, purchase.customer)) {
    return "This code is for a first purchase only.";
  }
  return null;
}

function hasPaid(ctx: EmulatorContext, customer: string | null): boolean {
  if (customer === null) return false;
  return ctx.store.invoices
    .all()
    .some((invoice) => invoice.customer === customer && invoice.amount_paid > 0);
}
