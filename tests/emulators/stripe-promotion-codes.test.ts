import Stripe from "stripe";
import { describe, expect, test } from "vitest";
import {
  advanceClock,
  control,
  seededPrice,
  submitForm,
  useStripeEmulator,
} from "./support/stripe.ts";

/*
 * Coupons and promotion codes through the official SDK, and a code typed into
 * the hosted Checkout page: the discount the subscription carries, what the
 * first invoice and the renewals charge, and the codes the page refuses.
 */

const env = useStripeEmulator();

let codeCount = 0;

/** A coupon and one promotion code for it, spelled uniquely for this test. */
async function promotion(
  coupon: Stripe.CouponCreateParams,
  code: Partial<Stripe.PromotionCodeCreateParams> = {},
): Promise<{ coupon: Stripe.Coupon; promo: Stripe.PromotionCode }> {
  const created = await env.stripe.coupons.create(coupon);
  codeCount++;
  const promo = await env.stripe.promotionCodes.create({
    promotion: { type: "coupon", coupon: created.id },
    code: `SAVE${codeCount}X${Date.now()}`,
    ...code,
  });
  return { coupon: created, promo };
}

async function openSession(
  lookupKey: string,
  extra: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<Stripe.Checkout.Session> {
  const customer = await env.stripe.customers.create({
    email: `promo.${Date.now()}.${Math.random()}@example.com`,
  });
  const price = await seededPrice(env.stripe, lookupKey);
  return env.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://site.test/success?session_id={CHECKOUT_SESSION_ID}",
    allow_promotion_codes: true,
    ...extra,
  });
}

/** Submits the hosted page's form as a browser would, with a code typed in. */
function payWithCode(session: Stripe.Checkout.Session, code: string): Promise<Response> {
  return submitForm(session.url ?? "", {
    card_number: "4242424242424242",
    card_expiry: "12 / 34",
    card_cvc: "123",
    promotion_code: code,
  });
}

async function paidSubscription(sessionId: string): Promise<Stripe.Subscription> {
  const session = await env.stripe.checkout.sessions.retrieve(sessionId);
  return env.stripe.subscriptions.retrieve(String(session.subscription), {
    expand: ["discounts"],
  });
}

async function invoicesOf(subscriptionId: string): Promise<Stripe.Invoice[]> {
  const list = await env.stripe.invoices.list({ subscription: subscriptionId });
  return list.data.reverse();
}

describe("coupons", () => {
  test("are created, read, listed and deleted in Stripe's shape", async () => {
    const coupon = await env.stripe.coupons.create({
      percent_off: 25,
      duration: "repeating",
      duration_in_months: 3,
      name: "Launch",
      max_redemptions: 50,
    });
    expect(coupon).toMatchObject({
      object: "coupon",
      percent_off: 25,
      amount_off: null,
      currency: null,
      duration: "repeating",
      duration_in_months: 3,
      max_redemptions: 50,
      times_redeemed: 0,
      valid: true,
      livemode: false,
    });
    expect(coupon.id).toMatch(/^[A-Z0-9]{8}$/);

    const named = await env.stripe.coupons.create({
      id: "FIVE_OFF",
      amount_off: 500,
      currency: "usd",
    });
    expect(named).toMatchObject({ id: "FIVE_OFF", duration: "once", currency: "usd" });
    expect(await env.stripe.coupons.retrieve("FIVE_OFF")).toEqual(named);
    const listed = await env.stripe.coupons.list({ limit: 100 });
    expect(listed.data.map((c) => c.id)).toEqual(
      expect.arrayContaining([coupon.id, "FIVE_OFF"]),
    );

    const deleted = await env.stripe.coupons.del("FIVE_OFF");
    expect(deleted).toEqual({ id: "FIVE_OFF", object: "coupon", deleted: true });
    await expect(env.stripe.coupons.retrieve("FIVE_OFF")).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  test("refuse terms that do not add up", async () => {
    const refusals: Stripe.CouponCreateParams[] = [
      {},
      { percent_off: 10, amount_off: 100, currency: "usd" },
      { amount_off: 100 },
      { percent_off: 120 },
      { percent_off: 10, duration: "repeating" },
      { percent_off: 10, duration: "forever", duration_in_months: 2 },
    ];
    for (const params of refusals) {
      await expect(env.stripe.coupons.create(params)).rejects.toBeInstanceOf(
        Stripe.errors.StripeInvalidRequestError,
      );
    }
    await env.stripe.coupons.create({ id: "TWICE", percent_off: 5 });
    await expect(
      env.stripe.coupons.create({ id: "TWICE", percent_off: 5 }),
    ).rejects.toMatchObject({ code: "resource_already_exists" });
  });
});

describe("promotion codes", () => {
  test("stand for a coupon, are found by code in any case, and can be turned off", async () => {
    const { coupon, promo } = await promotion({ percent_off: 10 });
    expect(promo).toMatchObject({
      object: "promotion_code",
      active: true,
      promotion: { type: "coupon", coupon: coupon.id },
      restrictions: { first_time_transaction: false, minimum_amount: null },
      times_redeemed: 0,
      customer: null,
    });
    expect(promo.id).toMatch(/^promo_/);

    const found = await env.stripe.promotionCodes.list({
      code: promo.code.toLowerCase(),
    });
    expect(found.data.map((p) => p.id)).toEqual([promo.id]);
    await expect(
      env.stripe.promotionCodes.create({
        promotion: { type: "coupon", coupon: coupon.id },
        code: promo.code.toLowerCase(),
      }),
    ).rejects.toMatchObject({ code: "resource_already_exists" });

    const off = await env.stripe.promotionCodes.update(promo.id, { active: false });
    expect(off.active).toBe(false);
    expect(
      (await env.stripe.promotionCodes.list({ active: true })).data,
    ).not.toContainEqual(expect.objectContaining({ id: promo.id }));
  });

  test("need a coupon that exists", async () => {
    await expect(
      env.stripe.promotionCodes.create({
        promotion: { type: "coupon", coupon: "NO_SUCH_COUPON" },
      }),
    ).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("a promotion code on the hosted Checkout page", () => {
  test("is asked for only when the session allows promotion codes", async () => {
    const allowing = await openSession("core_monthly");
    expect(allowing.allow_promotion_codes).toBe(true);
    expect(await (await fetch(allowing.url ?? "")).text()).toContain(
      'name="promotion_code"',
    );

    const plain = await openSession("core_monthly", { allow_promotion_codes: false });
    expect(plain.allow_promotion_codes).toBe(false);
    expect(await (await fetch(plain.url ?? "")).text()).not.toContain("promotion_code");
  });

  test("discounts the first invoice, and the subscription carries the discount", async () => {
    const { coupon, promo } = await promotion({ percent_off: 20, duration: "forever" });
    const session = await openSession("core_monthly");

    const paid = await payWithCode(session, promo.code.toLowerCase());
    expect(paid.status).toBe(303);

    const done = await env.stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({
      status: "complete",
      payment_status: "paid",
      amount_subtotal: 1200,
      amount_total: 960,
      total_details: { amount_discount: 240 },
      discounts: [{ coupon: coupon.id, promotion_code: promo.id }],
    });

    const subscription = await paidSubscription(session.id);
    expect(subscription.discounts).toEqual([
      expect.objectContaining({
        object: "discount",
        promotion_code: promo.id,
        source: { coupon: coupon.id, type: "coupon" },
        subscription: subscription.id,
        checkout_session: session.id,
        end: null,
      }),
    ]);
    const discountId = (subscription.discounts[0] as Stripe.Discount).id;

    const [first] = await invoicesOf(subscription.id);
    expect(first).toMatchObject({
      subtotal: 1200,
      total: 960,
      amount_due: 960,
      amount_paid: 960,
      status: "paid",
      discounts: [discountId],
      total_discount_amounts: [{ amount: 240, discount: discountId }],
    });
    expect(first?.lines.data[0]?.discount_amounts).toEqual([
      { amount: 240, discount: discountId },
    ]);

    expect((await env.stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
    expect((await env.stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1);
  });

  test("once: the renewal charges the full price and the discount is gone", async () => {
    const { promo } = await promotion({ amount_off: 500, currency: "usd" });
    const session = await openSession("spark_monthly");
    expect((await payWithCode(session, promo.code)).status).toBe(303);
    const subscription = await paidSubscription(session.id);
    expect(subscription.discounts).toEqual([]);

    await advanceClock(env.emulator, 32);

    const [first, renewal] = await invoicesOf(subscription.id);
    expect(first).toMatchObject({ subtotal: 500, total: 0, amount_paid: 0 });
    expect(renewal).toMatchObject({
      billing_reason: "subscription_cycle",
      total: 500,
      amount_paid: 500,
      total_discount_amounts: [],
    });
    const done = await env.stripe.checkout.sessions.retrieve(session.id);
    expect(done.payment_status).toBe("no_payment_required");
  });

  test("forever: every renewal is discounted", async () => {
    const { promo } = await promotion({ percent_off: 50, duration: "forever" });
    const session = await openSession("lightning_monthly");
    expect((await payWithCode(session, promo.code)).status).toBe(303);
    const subscription = await paidSubscription(session.id);

    await advanceClock(env.emulator, 32);

    const invoices = await invoicesOf(subscription.id);
    expect(invoices.map((invoice) => invoice.amount_paid)).toEqual([1250, 1250]);
  });

  test("during a trial: $0 now, the discount on the first paid invoice", async () => {
    const { promo } = await promotion({ percent_off: 10 });
    const session = await openSession("core_monthly", {
      subscription_data: { trial_period_days: 7 },
    });
    expect((await payWithCode(session, promo.code)).status).toBe(303);
    const subscription = await paidSubscription(session.id);
    expect(subscription.status).toBe("trialing");
    expect(subscription.discounts).toHaveLength(1);

    await advanceClock(env.emulator, 8);

    const [trial, firstPaid] = await invoicesOf(subscription.id);
    expect(trial).toMatchObject({ total: 0, total_discount_amounts: [] });
    expect(firstPaid).toMatchObject({ subtotal: 1200, total: 1080, amount_paid: 1080 });
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).discounts).toEqual(
      [],
    );
  });

  test("refuses a wrong, used up or disallowed code with 400, and starts nothing", async () => {
    const { promo } = await promotion({ percent_off: 10 }, { max_redemptions: 1 });
    const first = await openSession("core_monthly");
    expect((await payWithCode(first, promo.code)).status).toBe(303);

    const cases: [Stripe.Checkout.Session, string, string][] = [
      [await openSession("core_monthly"), "NOT-A-CODE", "This code is not valid."],
      [await openSession("core_monthly"), promo.code, "This code can no longer be used."],
      [
        await openSession("core_monthly", { allow_promotion_codes: false }),
        promo.code,
        "This checkout does not take promotion codes.",
      ],
    ];
    for (const [session, code, message] of cases) {
      const refused = await payWithCode(session, code);
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain(message);
      const after = await env.stripe.checkout.sessions.retrieve(session.id);
      expect(after).toMatchObject({ status: "open", subscription: null });
    }
  });

  test("is taken by the complete control route as by the page", async () => {
    const { promo } = await promotion({ percent_off: 10 });
    const session = await openSession("core_monthly");

    const wrong = await control(
      env.emulator,
      `checkout/sessions/${session.id}/complete`,
      {
        promotion_code: "WRONG",
      },
    );
    expect(wrong.status).toBe(400);
    const done = await control<Stripe.Checkout.Session>(
      env.emulator,
      `checkout/sessions/${session.id}/complete`,
      { promotion_code: promo.code },
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "complete", amount_total: 1080 });
  });

  test("keeps a code for the customer it was made for", async () => {
    const session = await openSession("core_monthly");
    const stranger = await env.stripe.customers.create({ email: "else@example.com" });
    const { promo } = await promotion({ percent_off: 10 }, { customer: stranger.id });

    const refused = await payWithCode(session, promo.code);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("not valid for your account");
  });
});
