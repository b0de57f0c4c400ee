import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * A subscription's life on the emulator's test clock, seen through the built
 * server: trials, renewals, renewals that fail and are retried, scheduled
 * cancellations, plan changes in the portal, and Checkouts that are never
 * paid. Each scenario asserts what the server answers over HTTP and what it
 * stored. The clock only moves forward, so each scenario has its own reader.
 */

const FAILING_CARD = "4000000000000341";
const AUTHENTICATION_CARD = "4000002760003184";
const GOOD_CARD = "4242424242424242";

let stack: Stack;
let billing: Billing;
let corePage: ReturnType<typeof gatedPage>;
let lightningPage: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  stack = await startStack();
  billing = billingFor(stack);
  corePage = gatedPage(stack.distDir, "core");
  lightningPage = gatedPage(stack.distDir, "lightning");
});

afterAll(async () => {
  await stack?.stop();
});

/** Moves the emulator's clock and waits for every event it caused to be applied. */
async function advanceDays(days: number): Promise<void> {
  await billing.emulator.advanceDays(days);
  await stack.flushWebhooks();
}

async function subscribed(tier: string, interval = "month"): Promise<Reader> {
  const reader = await stack.signUp();
  await billing.subscribe(reader, await billing.priceOf(tier, interval));
  await stack.flushWebhooks();
  expect(await billing.tierOnMe(reader)).toBe(tier);
  return reader;
}

/** A reader with a Stripe customer (from a Checkout they did not finish). */
async function withCustomer(): Promise<Reader> {
  const reader = await stack.signUp();
  const started = await billing.postJson(
    "/api/billing/checkout",
    { price: await billing.priceOf("spark") },
    reader.cookie,
  );
  expect(started.status).toBe(200);
  return reader;
}

async function readsFull(
  reader: Reader,
  page: ReturnType<typeof gatedPage>,
): Promise<boolean> {
  const response = await billing.getAs(page.path, reader.cookie);
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("private, no-store");
  const html = await response.text();
  if (html === page.full) return true;
  expect(html).toBe(page.teaser);
  return false;
}

function recordedTypes(): string[] {
  return billing.recordedEvents().map((event) => event.type);
}

describe("a free trial", () => {
  it("grants the tier from the first day, and the first charge continues it", async () => {
    const reader = await withCustomer();
    await stack.stripe.subscriptions.create({
      customer: billing.customerOf(reader),
      items: [{ price: await billing.priceOf("core") }],
      trial_period_days: 14,
    });
    await stack.flushWebhooks();

    expect(await billing.me(reader)).toMatchObject({
      tier: "core",
      subscription: { status: "trialing", tier: "core" },
    });
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "trialing", tier: "core" },
    ]);
    expect(await readsFull(reader, corePage)).toBe(true);

    await advanceDays(15);
    expect(await billing.me(reader)).toMatchObject({
      tier: "core",
      subscription: { status: "active" },
    });
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core" },
    ]);
  });

  it("that ends with a declined card leaves the reader past due, in grace", async () => {
    const reader = await withCustomer();
    await billing.emulator.setCard(billing.customerOf(reader), FAILING_CARD);
    await stack.stripe.subscriptions.create({
      customer: billing.customerOf(reader),
      items: [{ price: await billing.priceOf("spark") }],
      trial_period_days: 3,
    });
    await advanceDays(4);

    const me = await billing.me(reader);
    expect(me).toMatchObject({ tier: "spark", subscription: { status: "past_due" } });
    expect(me.notice).toContain("did not go through");
  });
});

describe("renewal", () => {
  it("keeps the tier and moves the renewal date a period on", async () => {
    const reader = await subscribed("spark");
    const before = (await billing.me(reader)).subscription?.currentPeriodEnd ?? "";

    await advanceDays(31);

    const after = await billing.me(reader);
    expect(after.tier).toBe("spark");
    expect(after.subscription?.status).toBe("active");
    expect(Date.parse(after.subscription?.currentPeriodEnd ?? "")).toBeGreaterThan(
      Date.parse(before) + 27 * 86_400_000,
    );
  });

  it("that fails keeps access with a notice, then retries end in unpaid and no access", async () => {
    const reader = await subscribed("core");
    const customerId = billing.customerOf(reader);
    await billing.emulator.setCard(customerId, FAILING_CARD);

    await advanceDays(31);
    const pastDue = await billing.me(reader);
    expect(pastDue).toMatchObject({ tier: "core", subscription: { status: "past_due" } });
    expect(pastDue.notice).toContain("did not go through");
    expect(await readsFull(reader, corePage)).toBe(true);

    const again = await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("lightning") },
      reader.cookie,
    );
    expect(again.status).toBe(409);

    // The emulator retries 3, 5 and 7 days after the first failure.
    await advanceDays(3);
    expect((await billing.me(reader)).subscription?.status).toBe("past_due");
    await advanceDays(2);
    await advanceDays(2);

    const unpaid = await billing.me(reader);
    expect(unpaid.tier).toBe("free");
    expect(unpaid.subscription?.status).toBe("unpaid");
    expect(unpaid.notice).toContain("plan is paused");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "unpaid", tier: "core" },
    ]);
    expect(await readsFull(reader, corePage)).toBe(false);
    const failures = recordedTypes().filter((type) => type === "invoice.payment_failed");
    expect(failures.length).toBeGreaterThanOrEqual(4);
  });

  it("that fails is rescued by a new card before the retries run out", async () => {
    const reader = await subscribed("spark");
    const customerId = billing.customerOf(reader);
    await billing.emulator.setCard(customerId, FAILING_CARD);
    await advanceDays(31);
    expect((await billing.me(reader)).subscription?.status).toBe("past_due");

    await billing.emulator.setCard(customerId, GOOD_CARD);
    await advanceDays(3);

    const me = await billing.me(reader);
    expect(me).toMatchObject({ tier: "spark", subscription: { status: "active" } });
    expect(me.notice).toBeNull();
  });

  it("that needs the reader to authenticate keeps access with a notice", async () => {
    const reader = await subscribed("spark");
    const customerId = billing.customerOf(reader);
    await billing.emulator.setCard(customerId, AUTHENTICATION_CARD);
    await advanceDays(31);

    const me = await billing.me(reader);
    expect(me).toMatchObject({ tier: "spark", subscription: { status: "past_due" } });
    expect(me.notice).not.toBeNull();
    expect(recordedTypes()).toContain("invoice.payment_action_required");
  });
});

describe("a failed renewal the server learns of late, with a grace of 3 days", () => {
  const GRACE_DAYS = 3;
  let late: Stack;
  let lateBilling: Billing;

  beforeAll(async () => {
    late = await startStack({
      env: { TIERWALL_PAST_DUE_GRACE_DAYS: String(GRACE_DAYS) },
    });
    lateBilling = billingFor(late);
    // The emulator's clock starts a month before five days ago, so that the
    // first renewal falls five days before the server's own now.
    const renewal = new Date(Date.now() - 5 * 86_400_000);
    renewal.setUTCMonth(renewal.getUTCMonth() - 1);
    const start = Math.floor(renewal.getTime() / 1000);
    await lateBilling.emulator.control("clock/start", { now: start });
  });

  afterAll(async () => {
    await late?.stop();
  });

  it("ends access grace days after the failure in Stripe, not after the webhook", async () => {
    const reader = await late.signUp();
    await lateBilling.subscribe(reader, await lateBilling.priceOf("core"));
    await late.flushWebhooks();
    expect(await lateBilling.tierOnMe(reader)).toBe("core");
    const customerId = lateBilling.customerOf(reader);
    await lateBilling.emulator.setCard(customerId, FAILING_CARD);

    // The renewal fails while the webhook is down; Stripe has not retried yet.
    const { items } = await lateBilling.stripeSubscription(reader);
    const periodEnd = items.data[0]?.current_period_end ?? 0;
    await lateBilling.emulator.hold();
    const clock = await lateBilling.emulator.now();
    await lateBilling.emulator.control("clock/advance", {
      seconds: periodEnd + 3_600 - clock,
    });
    const subscription = await late.stripe.subscriptions.retrieve(
      (await lateBilling.stripeSubscription(reader)).id,
      { expand: ["latest_invoice"] },
    );
    expect(subscription.status).toBe("past_due");
    const invoice = subscription.latest_invoice as { created: number };
    const now = Math.floor(Date.now() / 1000);
    // Over a 3-day grace, within the 7 days the config gives.
    expect(now - invoice.created).toBeGreaterThan(GRACE_DAYS * 86_400);
    expect(now - invoice.created).toBeLessThan(7 * 86_400);
    expect(await lateBilling.tierOnMe(reader)).toBe("core");

    const released = await lateBilling.emulator.release();
    expect(released.map((delivery) => delivery.status)).toEqual(released.map(() => 200));
    const [row] = lateBilling.query<{ status: string; past_due_since: number }>(
      "SELECT status, past_due_since FROM subscription WHERE id = ?",
      subscription.id,
    );
    expect(row).toEqual({ status: "past_due", past_due_since: invoice.created });

    const me = await lateBilling.me(reader);
    expect(me).toMatchObject({ tier: "free", subscription: { status: "past_due" } });
    expect(me.notice).toContain("plan is paused");
    const page = await lateBilling.getAs(corePage.path, reader.cookie);
    expect(await page.text()).toBe(corePage.teaser);
  });
});

describe("a scheduled cancellation", () => {
  it("at period end keeps access until the period is over, and says so", async () => {
    const reader = await subscribed("core");
    await billing.inPortal(reader, "cancel");
    await stack.flushWebhooks();

    const canceling = await billing.me(reader);
    expect(canceling.tier).toBe("core");
    expect(canceling.subscription).toMatchObject({
      status: "active",
      cancelAtPeriodEnd: true,
    });
    expect(canceling.subscription?.cancelAt).toBe(
      canceling.subscription?.currentPeriodEnd,
    );
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core", cancel_at_period_end: 1 },
    ]);
    expect(await readsFull(reader, corePage)).toBe(true);

    await advanceDays(31);

    const ended = await billing.me(reader);
    expect(ended.tier).toBe("free");
    expect(ended.subscription?.status).toBe("canceled");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "canceled", tier: "core" },
    ]);
    expect(await readsFull(reader, corePage)).toBe(false);
  });

  it("at a set date keeps access until that date", async () => {
    const reader = await subscribed("lightning", "year");
    const subscription = await billing.stripeSubscription(reader);
    const clock = (await (await fetch(`${stack.stripeUrl}/_emulator/clock`)).json()) as {
      now: number;
    };
    const cancelAt = clock.now + 10 * 86_400;
    await stack.stripe.subscriptions.update(subscription.id, { cancel_at: cancelAt });
    await stack.flushWebhooks();

    const canceling = await billing.me(reader);
    expect(canceling.tier).toBe("lightning");
    expect(canceling.subscription?.cancelAt).toBe(
      new Date(cancelAt * 1000).toISOString(),
    );
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      {
        status: "active",
        tier: "lightning",
        cancel_at: cancelAt,
        cancel_at_period_end: 0,
      },
    ]);
    expect(await readsFull(reader, lightningPage)).toBe(true);

    await advanceDays(11);
    expect(await billing.tierOnMe(reader)).toBe("free");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "canceled", tier: "lightning" },
    ]);
    expect(await readsFull(reader, lightningPage)).toBe(false);
  });

  it("once over, is never undone by an older event delivered again", async () => {
    const reader = await subscribed("spark");
    const subscription = await billing.stripeSubscription(reader);
    await stack.stripe.subscriptions.cancel(subscription.id);
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toMatchObject([{ status: "canceled" }]);

    const created = await stack.stripe.events.list({
      type: "customer.subscription.created",
      limit: 100,
    });
    const old = created.data.find(
      (event) => (event.data.object as { id: string }).id === subscription.id,
    );
    const answers = await billing.emulator.redeliver(old?.id ?? "");
    expect(answers.map((answer) => answer.status)).toEqual([200]);

    expect(billing.storedSubscriptions(reader)).toMatchObject([{ status: "canceled" }]);
    expect(await billing.tierOnMe(reader)).toBe("free");
  });
});

describe("the Billing Portal", () => {
  it("carries plan changes, a cancellation and its resumption to the reader's tier", async () => {
    const reader = await subscribed("spark");
    const [{ id } = { id: "" }] = billing.storedSubscriptions(reader);
    const lightning = await billing.priceOf("lightning");
    const core = await billing.priceOf("core");

    await billing.inPortal(reader, "switch", { price: lightning });
    await stack.flushWebhooks();
    expect(await billing.tierOnMe(reader)).toBe("lightning");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "active", tier: "lightning", price_id: lightning },
    ]);
    expect(await readsFull(reader, lightningPage)).toBe(true);

    await billing.inPortal(reader, "switch", { price: core });
    await stack.flushWebhooks();
    expect(await billing.tierOnMe(reader)).toBe("core");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "active", tier: "core", price_id: core },
    ]);
    expect(await readsFull(reader, lightningPage)).toBe(false);

    await billing.inPortal(reader, "cancel");
    await stack.flushWebhooks();
    const canceling = await billing.me(reader);
    expect(canceling.subscription?.cancelAtPeriodEnd).toBe(true);
    const periodEnd = Date.parse(canceling.subscription?.currentPeriodEnd ?? "") / 1000;
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      {
        id,
        status: "active",
        tier: "core",
        cancel_at_period_end: 1,
        cancel_at: periodEnd,
      },
    ]);

    await billing.inPortal(reader, "resume");
    await stack.flushWebhooks();
    const resumed = await billing.me(reader);
    expect(resumed.tier).toBe("core");
    expect(resumed.subscription).toMatchObject({
      cancelAtPeriodEnd: false,
      cancelAt: null,
    });
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "active", tier: "core", cancel_at_period_end: 0, cancel_at: null },
    ]);
  });
});

describe("Checkout", () => {
  it("keeps only the newest of a reader's Checkout pages payable", async () => {
    const reader = await stack.signUp();
    const price = await billing.priceOf("core");
    const urls: string[] = [];
    for (let tab = 0; tab < 2; tab++) {
      const started = await billing.postJson(
        "/api/billing/checkout",
        { price },
        reader.cookie,
      );
      expect(started.status).toBe(200);
      urls.push(((await started.json()) as { url: string }).url);
    }

    const firstId = new URL(urls[0] ?? "").pathname.split("/").pop() ?? "";
    expect((await stack.stripe.checkout.sessions.retrieve(firstId)).status).toBe(
      "expired",
    );
    const firstPage = await (await fetch(urls[0] ?? "")).text();
    expect(firstPage).not.toMatch(/<form\b[^>]*method="post"/i);
    const second = await payOnCheckoutPage(urls[1] ?? "");
    expect(second.status).toBe(303);
    await stack.flushWebhooks();

    const list = await stack.stripe.subscriptions.list({
      customer: billing.customerOf(reader),
      status: "all",
    });
    expect(list.data).toHaveLength(1);
    expect(await billing.tierOnMe(reader)).toBe("core");
  });

  it("left open until it expires changes nothing", async () => {
    const reader = await withCustomer();
    const sessions = await stack.stripe.checkout.sessions.list({
      customer: billing.customerOf(reader),
      limit: 1,
    });
    const [session] = sessions.data;
    if (!session) throw new Error("No Checkout Session was started");

    await advanceDays(2);
    expect((await stack.stripe.checkout.sessions.retrieve(session.id)).status).toBe(
      "expired",
    );
    const back = await billing.getAs(
      `/api/billing/success?session_id=${session.id}`,
      reader.cookie,
    );
    expect(back.headers.get("location")).toBe("/account/?checkout=incomplete");
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");
  });

  it("a reader in the payment grace period is sent to the portal, not to a second Checkout", async () => {
    const reader = await subscribed("spark");
    const [row] = billing.storedSubscriptions(reader);
    await billing.emulator.control(`subscriptions/${row?.id}/payment_failed`);
    await stack.flushWebhooks();
    expect((await billing.me(reader)).subscription?.status).toBe("past_due");

    const json = await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("core") },
      reader.cookie,
    );
    expect(json.status).toBe(409);
    const form = await stack.post(
      "/api/billing/checkout",
      { price: await billing.priceOf("core") },
      reader.cookie,
    );
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toMatch(/\/p\/session\//);
  });
});
