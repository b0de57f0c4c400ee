import { describe, expect, it } from "vitest";
import { checkoutParams } from "../../server/billing/checkout.ts";
import { createStripeClient, hostConfig } from "../../server/billing/stripe-client.ts";
import tierwall from "../../tierwall.config.ts";

describe("the Stripe client", () => {
  it("splits STRIPE_API_BASE into the SDK's host, port and protocol", () => {
    expect(hostConfig("http://127.0.0.1:12111")).toEqual({
      host: "127.0.0.1",
      port: "12111",
      protocol: "http",
    });
    expect(hostConfig("https://stripe.internal")).toEqual({
      host: "stripe.internal",
      port: "443",
      protocol: "https",
    });
    expect(hostConfig("http://[::1]:8080").host).toBe("::1");
    expect(() => hostConfig("127.0.0.1:12111")).toThrow(/must be an http\(s\) URL/);
    expect(() => hostConfig("localhost:12111")).toThrow(/must be an http\(s\) URL/);
  });

  it("needs a key, unless it talks to the emulator", () => {
    expect(() => createStripeClient({})).toThrow(/STRIPE_SECRET_KEY/);
    expect(
      createStripeClient({ STRIPE_API_BASE: "http://127.0.0.1:12111" }),
    ).toBeDefined();
  });
});

describe("the Checkout session the server asks for", () => {
  const params = checkoutParams("user_1", "cus_1", "price_core_month");

  it("names the reader three ways, so every later event can be traced to them", () => {
    expect(params.client_reference_id).toBe("user_1");
    expect(params.metadata).toEqual({ user_id: "user_1" });
    expect(params.subscription_data?.metadata).toEqual({ user_id: "user_1" });
    expect(params.customer).toBe("cus_1");
  });

  it("subscribes to one unit of the price, with the configured trial and codes", () => {
    expect(params.mode).toBe("subscription");
    expect(params.line_items).toEqual([{ price: "price_core_month", quantity: 1 }]);
    expect(params.allow_promotion_codes).toBe(tierwall.billing.allowPromotionCodes);
    const trial = params.subscription_data?.trial_period_days;
    expect(trial).toBe(
      tierwall.billing.trialDays > 0 ? tierwall.billing.trialDays : undefined,
    );
  });

  it("returns to the site, leaving Stripe's session placeholder intact", () => {
    const site = tierwall.site.url.replace(/\/+$/, "");
    expect(params.success_url).toBe(
      `${site}/api/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    );
    expect(params.cancel_url).toBe(`${site}/#pricing`);
  });
});
