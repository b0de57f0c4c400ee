import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * A free trial started through Checkout, on a server whose trial length comes
 * from TIERWALL_TRIAL_DAYS (tierwall.config.ts offers none): the hosted page
 * charges nothing, the success URL's `no_payment_required` session grants the
 * tier at once, and the end of the trial on the emulator's clock is the first
 * charge.
 */

const TRIAL_DAYS = 14;

let stack: Stack;
let billing: Billing;
let corePage: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  stack = await startStack({ env: { TIERWALL_TRIAL_DAYS: String(TRIAL_DAYS) } });
  billing = billingFor(stack);
  corePage = gatedPage(stack.distDir, "core");
});

afterAll(async () => {
  await stack?.stop();
});

async function pageAs(reader: Reader): Promise<string> {
  const response = await billing.getAs(corePage.path, reader.cookie);
  expect(response.status).toBe(200);
  return response.text();
}

describe("a trial through Checkout", () => {
  let reader: Reader;
  let checkoutUrl: string;
  let successUrl: string;

  beforeAll(async () => {
    reader = await stack.signUp();
  });

  it("offers the trial on the hosted page, with nothing due today", async () => {
    const checkout = await stack.post(
      "/api/billing/checkout",
      { price: await billing.priceOf("core") },
      reader.cookie,
    );
    expect(checkout.status).toBe(303);
    checkoutUrl = checkout.headers.get("location") ?? "";

    const page = await (await fetch(checkoutUrl)).text();
    expect(page).toContain(`${TRIAL_DAYS}-day free trial, then $12.00 per month`);
    expect(page).toContain('id="amount-due">$0.00</p>');
    expect(page).toContain("Start trial");
  });

  it("completes without charging, and the success URL grants Core before any webhook", async () => {
    await billing.emulator.hold();
    const paid = await payOnCheckoutPage(checkoutUrl);
    expect(paid.status).toBe(303);
    successUrl = paid.headers.get("location") ?? "";

    const sessionId = new URL(successUrl).searchParams.get("session_id") ?? "";
    const session = await stack.stripe.checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({
      status: "complete",
      payment_status: "no_payment_required",
    });
    const invoices = await stack.stripe.invoices.list({
      customer: billing.customerOf(reader),
    });
    expect(invoices.data.map((invoice) => invoice.amount_paid)).toEqual([0]);
    expect(billing.storedSubscriptions(reader)).toEqual([]);

    const url = new URL(successUrl);
    const back = await billing.getAs(`${url.pathname}${url.search}`, reader.cookie);
    expect(back.status).toBe(303);
    expect(back.headers.get("location")).toBe("/account/?checkout=success");

    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "trialing", tier: "core" },
    ]);
    expect(await billing.me(reader)).toMatchObject({
      tier: "core",
      subscription: { status: "trialing", tier: "core" },
      notice: null,
    });
    expect(await pageAs(reader)).toBe(corePage.full);
  });

  it("ends at the trial's end date, set by the server's trial length", async () => {
    await billing.emulator.release();
    await billing.emulator.stopHolding();
    await stack.flushWebhooks();

    const subscription = await billing.stripeSubscription(reader);
    expect(subscription.status).toBe("trialing");
    const trialDays = ((subscription.trial_end ?? 0) - subscription.created) / 86_400;
    expect(trialDays).toBe(TRIAL_DAYS);
    const [row] = billing.query<{ status: string; current_period_end: number }>(
      "SELECT status, current_period_end FROM subscription WHERE id = ?",
      subscription.id,
    );
    expect(row).toEqual({
      status: "trialing",
      current_period_end: subscription.trial_end,
    });
  });

  it("charges the card when the trial ends on the emulator's clock, and the row is active", async () => {
    await billing.emulator.advanceDays(TRIAL_DAYS + 1);
    await stack.flushWebhooks();

    const invoices = await stack.stripe.invoices.list({
      customer: billing.customerOf(reader),
    });
    const [renewal] = invoices.data;
    expect(renewal).toMatchObject({
      billing_reason: "subscription_cycle",
      status: "paid",
      amount_paid: 1200,
    });

    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core" },
    ]);
    expect(await billing.me(reader)).toMatchObject({
      tier: "core",
      subscription: { status: "active" },
    });
    expect(await pageAs(reader)).toBe(corePage.full);
  });
});
