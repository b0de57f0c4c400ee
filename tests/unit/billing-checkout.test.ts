import type Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkoutParams, isPaidFor } from "../../server/billing/checkout.ts";
import { readCheckoutOptions } from "../../server/billing/checkout-options.ts";
import { readPastDueGraceDays } from "../../server/billing/grace.ts";

/** A Checkout Session holding only the fields the return from Checkout reads. */
function session(
  status: Stripe.Checkout.Session.Status | null,
  paymentStatus: Stripe.Checkout.Session.PaymentStatus,
): Stripe.Checkout.Session {
  return {
    id: "cs_test_1",
    object: "checkout.session",
    status,
    payment_status: paymentStatus,
  } as Stripe.Checkout.Session;
}

describe("isPaidFor: whether the return from Checkout may grant the tier", () => {
  it("grants a completed session that was paid", () => {
    expect(isPaidFor(session("complete", "paid"))).toBe(true);
  });

  it("grants a completed session that needed no payment, as a trial or a 100% code", () => {
    expect(isPaidFor(session("complete", "no_payment_required"))).toBe(true);
  });

  it("grants nothing for a completed session whose payment has not cleared", () => {
    expect(isPaidFor(session("complete", "unpaid"))).toBe(false);
  });

  it("grants nothing for a session still open or expired, whatever its payment says", () => {
    for (const status of ["open", "expired", null] as const) {
      expect(isPaidFor(session(status, "unpaid"))).toBe(false);
      expect(isPaidFor(session(status, "paid"))).toBe(false);
      expect(isPaidFor(session(status, "no_payment_required"))).toBe(false);
    }
  });
});

describe("readCheckoutOptions", () => {
  const billing = { pastDueGraceDays: 7, trialDays: 0, allowPromotionCodes: false };

  it("follows the config when the environment says nothing", () => {
    expect(readCheckoutOptions(billing, {})).toEqual({
      trialDays: 0,
      allowPromotionCodes: false,
    });
    const configured = { ...billing, trialDays: 30, allowPromotionCodes: true };
    expect(readCheckoutOptions(configured, { TIERWALL_TRIAL_DAYS: " " })).toEqual({
      trialDays: 30,
      allowPromotionCodes: true,
    });
  });

  it("lets TIERWALL_TRIAL_DAYS and TIERWALL_ALLOW_PROMOTION_CODES override it", () => {
    const env = { TIERWALL_TRIAL_DAYS: "14", TIERWALL_ALLOW_PROMOTION_CODES: "true" };
    expect(readCheckoutOptions(billing, env)).toEqual({
      trialDays: 14,
      allowPromotionCodes: true,
    });
    const off = { TIERWALL_TRIAL_DAYS: "0", TIERWALL_ALLOW_PROMOTION_CODES: "0" };
    const configured = { ...billing, trialDays: 30, allowPromotionCodes: true };
    expect(readCheckoutOptions(configured, off)).toEqual({
      trialDays: 0,
      allowPromotionCodes: false,
    });
  });

  it("refuses values it cannot read, naming the variable", () => {
    for (const days of ["two weeks", "-3", "1.5", "731"]) {
      expect(() => readCheckoutOptions(billing, { TIERWALL_TRIAL_DAYS: days })).toThrow(
        /TIERWALL_TRIAL_DAYS must be a whole number of days/,
      );
    }
    expect(() =>
      readCheckoutOptions(billing, { TIERWALL_ALLOW_PROMOTION_CODES: "yes" }),
    ).toThrow(/TIERWALL_ALLOW_PROMOTION_CODES must be true or false/);
  });
});

describe("readPastDueGraceDays", () => {
  const billing = { trialDays: 0, allowPromotionCodes: false, pastDueGraceDays: 7 };

  it("takes the config's grace unless TIERWALL_PAST_DUE_GRACE_DAYS overrides it", () => {
    expect(readPastDueGraceDays(billing, {})).toBe(7);
    expect(readPastDueGraceDays(billing, { TIERWALL_PAST_DUE_GRACE_DAYS: " " })).toBe(7);
    expect(readPastDueGraceDays(billing, { TIERWALL_PAST_DUE_GRACE_DAYS: "3" })).toBe(3);
    expect(readPastDueGraceDays(billing, { TIERWALL_PAST_DUE_GRACE_DAYS: "0" })).toBe(0);
  });

  it("refuses values it cannot read, naming the variable", () => {
    for (const days of ["a week", "-1", "2.5", "61"]) {
      expect(() =>
        readPastDueGraceDays(billing, { TIERWALL_PAST_DUE_GRACE_DAYS: days }),
      ).toThrow(/TIERWALL_PAST_DUE_GRACE_DAYS must be a whole number of days/);
    }
  });
});

describe("the Checkout session with options from the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("asks Stripe for the trial and the code field", () => {
    vi.stubEnv("TIERWALL_TRIAL_DAYS", "14");
    vi.stubEnv("TIERWALL_ALLOW_PROMOTION_CODES", "true");

    const params = checkoutParams("user_1", "cus_1", "price_1");
    expect(params.subscription_data?.trial_period_days).toBe(14);
    expect(params.allow_promotion_codes).toBe(true);
  });

  it("asks for no trial at 0 days, and no code field when turned off", () => {
    vi.stubEnv("TIERWALL_TRIAL_DAYS", "0");
    vi.stubEnv("TIERWALL_ALLOW_PROMOTION_CODES", "false");

    const params = checkoutParams("user_1", "cus_1", "price_1");
    expect(params.subscription_data).not.toHaveProperty("trial_period_days");
    expect(params.allow_promotion_codes).toBe(false);
  });
});
