import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Billing, billingFor, payWithPromotionCode } from "../helpers/billing.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * Promotion codes through Checkout on the built server. The option comes from
 * TIERWALL_ALLOW_PROMOTION_CODES (tierwall.config.ts leaves it off): with it
 * on, the session the server creates takes a code and the reader who pays with
 * one holds the tier with the discount on their subscription; with it off, the
 * session takes none.
 */

let stack: Stack;
let billing: Billing;
let corePage: ReturnType<typeof gatedPage>;
let coupon: Stripe.Coupon;
let promo: Stripe.PromotionCode;

beforeAll(async () => {
  stack = await startStack({ env: { TIERWALL_ALLOW_PROMOTION_CODES: "true" } });
  billing = billingFor(stack);
  corePage = gatedPage(stack.distDir, "core");
  coupon = await stack.stripe.coupons.create({
    percent_off: 25,
    duration: "forever",
    name: "Readers of the first issue",
  });
  promo = await stack.stripe.promotionCodes.create({
    promotion: { type: "coupon", coupon: coupon.id },
    code: "FIRSTISSUE",
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** Starts Checkout as a script does and answers the session the server created. */
async function startCheckout(reader: Reader): Promise<Stripe.Checkout.Session> {
  const started = await billing.postJson(
    "/api/billing/checkout",
    { price: await billing.priceOf("core") },
    reader.cookie,
  );
  expect(started.status).toBe(200);
  const { url } = (await started.json()) as { url: string };
  const id = new URL(url).pathname.split("/").pop() ?? "";
  return stack.stripe.checkout.sessions.retrieve(id);
}

async function readsFull(reader: Reader): Promise<boolean> {
  const html = await (await billing.getAs(corePage.path, reader.cookie)).text();
  return html === corePage.full;
}

describe("with promotion codes allowed", () => {
  it("creates the Checkout session with allow_promotion_codes, and its page asks for a code", async () => {
    const session = await startCheckout(await stack.signUp());

    expect(session.allow_promotion_codes).toBe(true);
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).toContain('name="promotion_code"');
  });

  it("a reader who pays with a code holds the tier, with the discount on the subscription", async () => {
    const reader = await stack.signUp();
    const paid = await billing.subscribeWithCode(
      reader,
      await billing.priceOf("core"),
      "firstissue",
    );
    expect(paid.status).toBe(303);
    const success = new URL(paid.headers.get("location") ?? "");
    const back = await billing.getAs(
      `${success.pathname}${success.search}`,
      reader.cookie,
    );
    expect(back.headers.get("location")).toBe("/account/?checkout=success");

    const stored = billing.storedSubscriptions(reader);
    expect(stored).toMatchObject([{ status: "active", tier: "core" }]);
    expect(await billing.tierOnMe(reader)).toBe("core");
    expect(await readsFull(reader)).toBe(true);

    const subscription = await stack.stripe.subscriptions.retrieve(stored[0]?.id ?? "", {
      expand: ["discounts", "latest_invoice"],
    });
    expect(subscription.discounts).toEqual([
      expect.objectContaining({
        promotion_code: promo.id,
        source: { coupon: coupon.id, type: "coupon" },
      }),
    ]);
    expect(subscription.latest_invoice).toMatchObject({
      subtotal: 1200,
      amount_paid: 900,
      total_discount_amounts: [{ amount: 300 }],
    });
    expect((await stack.stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
  });

  it("refuses a code that does not exist on the page, and stores nothing", async () => {
    const reader = await stack.signUp();
    const session = await startCheckout(reader);

    const refused = await payWithPromotionCode(session.url ?? "", "NOSUCHCODE");
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("This code is not valid.");
    expect((await stack.stripe.checkout.sessions.retrieve(session.id)).status).toBe(
      "open",
    );
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");
  });
});

describe("with promotion codes not allowed", () => {
  beforeAll(async () => {
    await stack.restart({ env: { TIERWALL_ALLOW_PROMOTION_CODES: "false" } });
  });

  it("creates the session without them: no code field, and a code sent anyway is refused", async () => {
    const reader = await stack.signUp();
    const session = await startCheckout(reader);

    expect(session.allow_promotion_codes).toBe(false);
    const page = await (await fetch(session.url ?? "")).text();
    expect(page).not.toContain("promotion_code");

    const refused = await payWithPromotionCode(session.url ?? "", promo.code);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("does not take promotion codes");
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect((await stack.stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
  });
});
