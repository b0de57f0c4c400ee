import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The webhook in every order of events: signatures and their clock, rotation,
 * deliveries held back and sent late, reversed, shuffled, duplicated at the same
 * moment, dropped and redelivered, and a Stripe outage while an event is
 * applied. Every scenario ends by comparing what the server stored with what
 * Stripe holds, over HTTP and in SQLite.
 */

const RETIRED_SECRET = "whsec_retired_during_rotation";

let stack: Stack;
let billing: Billing;

beforeAll(async () => {
  stack = await startStack({
    webhookSecretEnv: (registered) => `${RETIRED_SECRET}, ${registered}`,
  });
  billing = billingFor(stack);
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  // A failed scenario must not leave later ones with held deliveries or an outage.
  await billing.emulator.control("outage", { api: false });
  await billing.emulator.control("webhooks/settings", {
    hold: false,
    delay_ms: 0,
    copies: 1,
  });
  await billing.emulator.drop();
});

/** A catalog event: verified and recorded, with nothing to sync. */
function catalogEvent(): { id: string; payload: string } {
  const id = `evt_test_${randomUUID().replaceAll("-", "")}`;
  const payload = JSON.stringify({
    id,
    object: "event",
    type: "price.updated",
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: "price_unused", object: "price" } },
  });
  return { id, payload };
}

function isRecorded(eventId: string): boolean {
  return billing.recordedEvents().some((event) => event.id === eventId);
}

/** The reader's subscription as the server stored it and as Stripe holds it. */
async function storedAndStripe(reader: Reader) {
  const stripeSub = await billing.stripeSubscription(reader);
  const [row] = billing.query<{
    id: string;
    status: string;
    price_id: string;
    cancel_at: number | null;
    cancel_at_period_end: number;
  }>(
    `SELECT id, status, price_id, cancel_at, cancel_at_period_end FROM subscription
      WHERE id = ?`,
    stripeSub.id,
  );
  return {
    stored: row ?? null,
    stripe: {
      id: stripeSub.id,
      status: stripeSub.status,
      price_id: stripeSub.items.data[0]?.price.id,
      cancel_at: stripeSub.cancel_at,
      cancel_at_period_end: stripeSub.cancel_at_period_end ? 1 : 0,
    },
  };
}

/**
 * Sends every held delivery and expects each first attempt answered 200, with
 * no retry behind it (a 500 then a 200 would not do).
 */
async function expectFirstAttemptsAnswered200(): Promise<string[]> {
  await billing.emulator.stopHolding();
  const released = await billing.emulator.release();
  expect(released.length).toBeGreaterThan(0);
  expect(released.map((d) => ({ type: d.type, status: d.status }))).toEqual(
    released.map((d) => ({ type: d.type, status: 200 })),
  );
  await stack.flushWebhooks();
  const ids = released.map((delivery) => delivery.event_id);
  const events = (await (await fetch(`${stack.stripeUrl}/_emulator/events`)).json()) as {
    id: string;
    deliveries: { attempts: unknown[] }[];
  }[];
  const attempts = events
    .filter((event) => ids.includes(event.id))
    .flatMap((event) => event.deliveries.map((d) => d.attempts.length));
  expect(attempts).toEqual(attempts.map(() => 1));
  return ids;
}

async function expectInStepWithStripe(reader: Reader): Promise<void> {
  const { stored, stripe } = await storedAndStripe(reader);
  expect(stored).toEqual(stripe);
}

describe("signatures", () => {
  it("accepts the current and the retired secret while rotating, and no other", async () => {
    const current = catalogEvent();
    const retired = catalogEvent();
    const stranger = catalogEvent();

    const answers = await Promise.all([
      billing.postWebhook(current.payload, billing.sign(current.payload)),
      billing.postWebhook(
        retired.payload,
        billing.sign(retired.payload, { secret: RETIRED_SECRET }),
      ),
      billing.postWebhook(
        stranger.payload,
        billing.sign(stranger.payload, { secret: "whsec_someone_else" }),
      ),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 400]);
    expect([current, retired, stranger].map((e) => isRecorded(e.id))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("refuses a signature made more than five minutes ago or ahead", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      { offset: -6 * 60, status: 400 },
      { offset: 6 * 60, status: 400 },
      { offset: -4 * 60, status: 200 },
      { offset: 4 * 60, status: 200 },
    ];

    for (const { offset, status } of cases) {
      const event = catalogEvent();
      const response = await billing.postWebhook(
        event.payload,
        billing.sign(event.payload, { timestamp: now + offset }),
      );
      expect({ offset, status: response.status }).toEqual({ offset, status });
      if (status === 400) {
        const body = (await response.json()) as { message: string };
        expect(body.message).toContain("more than 5 minutes off");
      }
      expect(isRecorded(event.id)).toBe(status === 200);
    }
  });

  it("checks the bytes as they arrived, not a re-encoding of them", async () => {
    const id = `evt_test_${randomUUID().replaceAll("-", "")}`;
    // Indented, with a non-ASCII character, as Stripe's own payloads can be.
    const payload = JSON.stringify(
      {
        id,
        object: "event",
        type: "product.updated",
        data: { object: { id: "prod_x", object: "product", name: "Café notes" } },
      },
      null,
      2,
    );
    const signature = billing.sign(payload);

    const reencoded = await billing.postWebhook(
      JSON.stringify(JSON.parse(payload)),
      signature,
    );
    expect(reencoded.status).toBe(400);
    expect(isRecorded(id)).toBe(false);

    const asSent = await billing.postWebhook(payload, signature);
    expect(asSent.status).toBe(200);
    expect(isRecorded(id)).toBe(true);
  });
});

describe("events that arrive late and out of order", () => {
  it("end in Stripe's state when a checkout, a plan change and a cancellation arrive in reverse", async () => {
    const reader = await stack.signUp();
    await billing.emulator.hold();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await billing.inPortal(reader, "switch", {
      price: await billing.priceOf("lightning"),
    });
    await billing.inPortal(reader, "cancel");

    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");

    const released = await billing.emulator.release({ order: "reverse" });
    expect(released.length).toBeGreaterThanOrEqual(4);
    for (const delivery of released) expect(delivery.status).toBe(200);

    await expectInStepWithStripe(reader);
    const me = await billing.me(reader);
    expect(me.tier).toBe("lightning");
    expect(me.subscription).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
  });

  it("end in Stripe's state when shuffled and each sent three times at once", async () => {
    const reader = await stack.signUp();
    await billing.emulator.hold();
    await billing.subscribe(reader, await billing.priceOf("spark"));
    await billing.inPortal(reader, "switch", { price: await billing.priceOf("core") });
    await billing.inPortal(reader, "cancel");
    await billing.inPortal(reader, "resume");

    await billing.emulator.control("webhooks/settings", { copies: 3 });
    const released = await billing.emulator.release({ order: "shuffle" });
    for (const delivery of released) expect(delivery.status).toBe(200);

    await expectInStepWithStripe(reader);
    expect(await billing.tierOnMe(reader)).toBe("core");
    const ids = released.map((delivery) => delivery.event_id);
    const recorded = billing.recordedEvents().filter((event) => ids.includes(event.id));
    expect(recorded).toHaveLength(new Set(ids).size);
  });

  it("reach the same rows when delayed past the reader's return from Checkout", async () => {
    const reader = await stack.signUp();
    await billing.emulator.control("webhooks/settings", { delay_ms: 1_500 });
    const successUrl = new URL(
      await billing.subscribe(reader, await billing.priceOf("spark")),
    );

    const back = await billing.getAs(
      `${successUrl.pathname}${successUrl.search}`,
      reader.cookie,
    );
    expect(back.status).toBe(303);
    expect(await billing.tierOnMe(reader)).toBe("spark");
    const before = billing.storedSubscriptions(reader);

    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toEqual(before);
    await expectInStepWithStripe(reader);
  });
});

describe("a dropped event", () => {
  let reader: Reader;

  beforeAll(async () => {
    reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await stack.flushWebhooks();
  });

  it("leaves the stored state behind Stripe until it is redelivered", async () => {
    await billing.emulator.hold();
    await billing.inPortal(reader, "cancel");
    const held = await billing.emulator.held();
    expect(held.map((delivery) => delivery.type)).toContain(
      "customer.subscription.updated",
    );
    expect(await billing.emulator.drop()).toBe(held.length);
    await billing.emulator.stopHolding();

    expect((await billing.me(reader)).subscription?.cancelAtPeriodEnd).toBe(false);

    const update = held.find((d) => d.type === "customer.subscription.updated");
    const answers = await billing.emulator.redeliver(update?.event_id ?? "");
    expect(answers.map((answer) => answer.status)).toEqual([200]);
    expect((await billing.me(reader)).subscription?.cancelAtPeriodEnd).toBe(true);
    await expectInStepWithStripe(reader);
  });

  it("changes nothing when an old event is redelivered after a newer one", async () => {
    const [created] = billing.query<{ id: string }>(
      `SELECT id FROM stripe_event WHERE type = 'customer.subscription.created'
        ORDER BY applied_at LIMIT 1`,
    );
    const before = billing.storedSubscriptions(reader);

    const answers = await billing.emulator.redeliver(created?.id ?? "");
    expect(answers.map((answer) => answer.status)).toEqual([200]);
    expect(billing.storedSubscriptions(reader)).toEqual(before);
    expect((await billing.me(reader)).subscription?.cancelAtPeriodEnd).toBe(true);
  });
});

describe("one event delivered several times at the same moment", () => {
  it("is applied once; every delivery gets 200", async () => {
    const reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("spark"));
    await stack.flushWebhooks();

    await billing.emulator.hold();
    await billing.inPortal(reader, "switch", {
      price: await billing.priceOf("lightning"),
    });
    const [held] = await billing.emulator.held();
    if (!held) throw new Error("The plan change sent no event");
    const event = await stack.stripe.events.retrieve(held.event_id);
    const payload = JSON.stringify(event);
    const signature = billing.sign(payload);

    const answers = await Promise.all(
      Array.from({ length: 8 }, () => billing.postWebhook(payload, signature)),
    );
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as {
      duplicate?: boolean;
    }[];

    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(bodies.filter((body) => !body.duplicate)).toHaveLength(1);
    expect(
      billing.query("SELECT id FROM stripe_event WHERE id = ?", held.event_id),
    ).toHaveLength(1);
    expect(await billing.tierOnMe(reader)).toBe("lightning");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      {
        status: "active",
        tier: "lightning",
        price_id: await billing.priceOf("lightning"),
      },
    ]);
    await expectInStepWithStripe(reader);
  });
});

describe("a stale read from Stripe after a cancellation", () => {
  it("leaves the canceled row canceled and the reader at the teaser", async () => {
    const corePage = gatedPage(stack.distDir, "core");
    const reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await stack.flushWebhooks();
    const { id } = await billing.stripeSubscription(reader);
    await stack.stripe.subscriptions.cancel(id);
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "canceled" },
    ]);

    // A later event (a note added to the ended subscription) sends the webhook
    // to read it, and that read lags two changes behind, the note and the
    // cancellation: it still shows the subscription active.
    await billing.emulator.staleReads(billing.customerOf(reader), { versions_back: 2 });
    await billing.emulator.hold();
    await stack.stripe.subscriptions.update(id, { metadata: { note: "refunded" } });
    await expectFirstAttemptsAnswered200();

    // The webhook's read used the stale answer up: this one is fresh.
    expect((await stack.stripe.subscriptions.retrieve(id)).status).toBe("canceled");
    expect(stack.server.output()).toContain(
      `subscription ${id} is stored canceled; Stripe answered active`,
    );
    const updates = await stack.stripe.events.list({
      type: "customer.subscription.updated",
      limit: 1,
    });
    const [update] = updates.data;
    expect(isRecorded(update?.id ?? "")).toBe(true);

    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "canceled", tier: "core" },
    ]);
    expect(await billing.me(reader)).toMatchObject({
      tier: "free",
      subscription: { status: "canceled" },
    });
    const page = await billing.getAs(corePage.path, reader.cookie);
    expect(await page.text()).toBe(corePage.teaser);
  });
});

describe("an older event delivered for the first time after the cancellation", () => {
  it("is answered 200 and, though Stripe's read lags behind, leaves the subscription ended", async () => {
    const reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("spark"));
    await stack.flushWebhooks();
    const { id } = await billing.stripeSubscription(reader);

    await billing.emulator.hold();
    await stack.stripe.subscriptions.update(id, { metadata: { note: "gift" } });
    const [older] = await billing.emulator.held();
    if (!older) throw new Error("The update sent no event");
    await stack.stripe.subscriptions.cancel(id);
    const later = (await billing.emulator.held()).filter(
      (delivery) => delivery.event_id !== older.event_id,
    );
    expect(later.map((delivery) => delivery.type)).toContain(
      "customer.subscription.deleted",
    );

    const ended = await billing.emulator.release({
      event_ids: later.map((delivery) => delivery.event_id),
    });
    expect(ended.map((delivery) => delivery.status)).toEqual(later.map(() => 200));
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "canceled" },
    ]);

    // The older event's read answers as of two changes back: active, before
    // the note and the cancellation.
    await billing.emulator.staleReads(billing.customerOf(reader), { versions_back: 2 });
    const late = await billing.emulator.release({ event_ids: [older.event_id] });
    expect(late.map((delivery) => delivery.status)).toEqual([200]);

    expect(isRecorded(older.event_id)).toBe(true);
    expect(stack.server.output()).toContain(
      `subscription ${id} is stored canceled; Stripe answered active`,
    );
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { id, status: "canceled", tier: "spark" },
    ]);
    expect(await billing.me(reader)).toMatchObject({
      tier: "free",
      subscription: { status: "canceled" },
    });
  });
});

describe("a failure inside the webhook's write, after Stripe answered", () => {
  it("answers 5xx and keeps neither the event id nor the rows; once fixed, a redelivery applies it once", async () => {
    const reader = await stack.signUp();
    await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("core") },
      reader.cookie,
    );
    await stack.flushWebhooks();

    const db = stack.openDb();
    try {
      db.exec(`CREATE TRIGGER refuse_subscription BEFORE INSERT ON subscription
               BEGIN SELECT RAISE(ABORT, 'disk full'); END;`);
      await billing.emulator.hold();
      await stack.stripe.subscriptions.create({
        customer: billing.customerOf(reader),
        items: [{ price: await billing.priceOf("core") }],
      });
      await billing.emulator.stopHolding();
      const released = await billing.emulator.release();
      expect(released.length).toBeGreaterThan(0);
      for (const delivery of released) expect(delivery.status).toBe(500);
      // Stripe's retries meet the same failure until they run out.
      await stack.flushWebhooks();
      for (const delivery of released) expect(isRecorded(delivery.event_id)).toBe(false);
      expect(billing.storedSubscriptions(reader)).toEqual([]);
      expect(await billing.tierOnMe(reader)).toBe("free");

      db.exec("DROP TRIGGER refuse_subscription");
      const ids = [...new Set(released.map((delivery) => delivery.event_id))];
      for (const eventId of ids) {
        const answers = await billing.emulator.redeliver(eventId);
        expect(answers.map((answer) => answer.status)).toEqual([200]);
      }

      for (const eventId of ids) {
        expect(
          billing.query("SELECT id FROM stripe_event WHERE id = ?", eventId),
        ).toHaveLength(1);
      }
      expect(billing.storedSubscriptions(reader)).toMatchObject([
        { status: "active", tier: "core" },
      ]);
      expect(await billing.tierOnMe(reader)).toBe("core");
      await expectInStepWithStripe(reader);
    } finally {
      db.exec("DROP TRIGGER IF EXISTS refuse_subscription");
      db.close();
    }
  });
});

describe("a Stripe outage while an event is applied", () => {
  it("answers 5xx, stores nothing, and applies the event on Stripe's retry", async () => {
    const reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await stack.flushWebhooks();
    const before = billing.storedSubscriptions(reader);

    await billing.emulator.hold();
    await billing.inPortal(reader, "cancel");
    await billing.emulator.outage(true);
    const released = await billing.emulator.release();
    expect(released.length).toBeGreaterThan(0);
    for (const delivery of released) expect(delivery.status).toBe(500);
    for (const delivery of released) expect(isRecorded(delivery.event_id)).toBe(false);
    expect(billing.storedSubscriptions(reader)).toEqual(before);

    await billing.emulator.outage(false);
    await stack.flushWebhooks();

    for (const delivery of released) expect(isRecorded(delivery.event_id)).toBe(true);
    expect((await billing.me(reader)).subscription?.cancelAtPeriodEnd).toBe(true);
    await expectInStepWithStripe(reader);
  });
});

describe("an event type the webhook does not listen to", () => {
  it("customer.updated about a reader whose rows are stale: 200 and no sync, until a listened-to event comes", async () => {
    const reader = await stack.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await stack.flushWebhooks();

    // The cancellation's events are lost: the stored rows fall behind Stripe.
    await billing.emulator.hold();
    await billing.inPortal(reader, "cancel");
    const lost = await billing.emulator.held();
    await billing.emulator.drop();
    await billing.emulator.stopHolding();
    const stale = billing.storedSubscriptions(reader);
    expect(stale).toMatchObject([{ status: "active", cancel_at_period_end: 0 }]);
    expect((await billing.stripeSubscription(reader)).cancel_at_period_end).toBe(true);

    const customerId = billing.customerOf(reader);
    await stack.stripe.customers.update(customerId, { metadata: { note: "vip" } });
    const updates = await stack.stripe.events.list({
      type: "customer.updated",
      limit: 10,
    });
    const update = updates.data.find(
      (event) => (event.data.object as { id: string }).id === customerId,
    );
    if (!update) throw new Error("The customer's update recorded no event");
    const payload = JSON.stringify(update);

    const answer = await billing.postWebhook(payload, billing.sign(payload));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true, ignored: true });
    expect(isRecorded(update.id)).toBe(false);
    expect(billing.storedSubscriptions(reader)).toEqual(stale);
    expect((await billing.me(reader)).subscription?.cancelAtPeriodEnd).toBe(false);

    const listened = lost.find((d) => d.type === "customer.subscription.updated");
    const answers = await billing.emulator.redeliver(listened?.event_id ?? "");
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", cancel_at_period_end: 1 },
    ]);
    await expectInStepWithStripe(reader);
  });
});

describe("a product event", () => {
  it("product.updated moving a product off its tier changes /api/pricing at once, and back", async () => {
    const before = await billing.pricing();
    expect(before.tiers.map((tier) => tier.id)).toContain("lightning");
    const lightningPrice = await billing.priceOf("lightning");
    const price = await stack.stripe.prices.retrieve(lightningPrice);
    const productId = String(price.product);

    await billing.emulator.hold();
    try {
      await stack.stripe.products.update(productId, { metadata: { tier: "" } });
      const held = await billing.emulator.held();
      expect(held.map((delivery) => delivery.type)).toEqual(["product.updated"]);
      // Until the event arrives the cached catalog still shows the tier.
      expect((await billing.pricing()).tiers.map((tier) => tier.id)).toContain(
        "lightning",
      );

      const released = await billing.emulator.release();
      expect(released.map((delivery) => delivery.status)).toEqual([200]);
      expect(isRecorded(released[0]?.event_id ?? "")).toBe(true);
      expect((await billing.pricing()).tiers.map((tier) => tier.id)).toEqual([
        "spark",
        "core",
      ]);
    } finally {
      await billing.emulator.stopHolding();
      await stack.stripe.products.update(productId, { metadata: { tier: "lightning" } });
      await stack.flushWebhooks();
    }
    expect(await billing.pricing()).toEqual(before);
  });
});

describe("events the webhook has nothing to do with", () => {
  it("a customer that belongs to no reader: 200 and nothing stored", async () => {
    await billing.emulator.hold();
    const stranger = await stack.stripe.customers.create({ email: "x@example.com" });
    await stack.stripe.subscriptions.create({
      customer: stranger.id,
      items: [{ price: await billing.priceOf("core") }],
      trial_period_days: 7,
    });

    await expectFirstAttemptsAnswered200();
    expect(
      billing.query("SELECT id FROM subscription WHERE customer_id = ?", stranger.id),
    ).toEqual([]);
  });

  it("a subscription to a product that maps to no tier grants nothing", async () => {
    const reader = await stack.signUp();
    await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("spark") },
      reader.cookie,
    );
    const product = await stack.stripe.products.create({ name: "Coffee club" });
    const price = await stack.stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 900,
      recurring: { interval: "month" },
    });

    await billing.emulator.hold();
    await stack.stripe.subscriptions.create({
      customer: billing.customerOf(reader),
      items: [{ price: price.id }],
    });

    await expectFirstAttemptsAnswered200();
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");
  });

  it("a subscription that mixes a product of no tier with a tier's price grants that tier", async () => {
    const reader = await stack.signUp();
    await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("spark") },
      reader.cookie,
    );
    const product = await stack.stripe.products.create({ name: "Tote bag" });
    const tote = await stack.stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2_500,
      recurring: { interval: "month" },
    });
    const spark = await billing.priceOf("spark");
    await stack.flushWebhooks();

    await billing.emulator.hold();
    await stack.stripe.subscriptions.create({
      customer: billing.customerOf(reader),
      items: [{ price: tote.id }, { price: spark }],
    });

    await expectFirstAttemptsAnswered200();
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "spark", price_id: spark },
    ]);
    expect(await billing.tierOnMe(reader)).toBe("spark");
  });

  it("a subscription with several items grants the highest tier among them", async () => {
    const reader = await stack.signUp();
    await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("spark") },
      reader.cookie,
    );

    const items = [
      { price: await billing.priceOf("spark") },
      { price: await billing.priceOf("lightning") },
      { price: await billing.priceOf("core") },
    ];
    await billing.emulator.hold();
    await stack.stripe.subscriptions.create({
      customer: billing.customerOf(reader),
      items,
    });

    await expectFirstAttemptsAnswered200();

    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "lightning" },
    ]);
    expect(await billing.tierOnMe(reader)).toBe("lightning");
  });

  it("a price archived in Stripe leaves the pricing table once its event arrives", async () => {
    const yearly = await billing.priceOf("spark", "year");
    await stack.stripe.prices.update(yearly, { active: false });
    await stack.flushWebhooks();

    const listed = (await billing.pricing()).tiers.flatMap((tier) =>
      tier.prices.map((price) => price.id),
    );
    expect(listed).not.toContain(yearly);

    await stack.stripe.prices.update(yearly, { active: true });
    await stack.flushWebhooks();
    expect(await billing.priceOf("spark", "year")).toBe(yearly);
  });
});
