import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAmount } from "../../lib/money.ts";
import { flashOf, formAnswerOf } from "../helpers/accounts.ts";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { type Reader, type Stack, sessionCookie, startStack } from "../helpers/stack.ts";

/**
 * Billing on the built server over HTTP: pricing, Checkout, the return from it,
 * the webhook and the portal, with the official SDK on the Stripe emulator and
 * the server's own SQLite file as the witness of what was stored.
 */

let stack: Stack;
let billing: Billing;

beforeAll(async () => {
  stack = await startStack();
  billing = billingFor(stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("GET /api/pricing", () => {
  it("lists the three paid tiers, lowest first, each monthly and yearly", async () => {
    const body = await billing.pricing();

    expect(body.tiers.map((tier) => tier.id)).toEqual(["spark", "core", "lightning"]);
    for (const tier of body.tiers) {
      expect(tier.prices.map((price) => price.interval)).toEqual(["month", "year"]);
      for (const price of tier.prices) {
        expect(price.formatted).toBe(formatAmount(price.amount, price.currency));
      }
    }
  });

  it("leaves out the product that names no tier", async () => {
    const products = await stack.stripe.products.list({ limit: 100 });
    const unrelated = products.data.filter((product) => !product.metadata.tier);
    expect(unrelated.length).toBeGreaterThan(0);

    const prices = await stack.stripe.prices.list({ limit: 100 });
    const unrelatedPrices = prices.data
      .filter((price) => unrelated.some((product) => product.id === price.product))
      .map((price) => price.id);
    const listed = (await billing.pricing()).tiers.flatMap((tier) =>
      tier.prices.map((p) => p.id),
    );
    expect(unrelatedPrices.length).toBeGreaterThan(0);
    for (const id of unrelatedPrices) expect(listed).not.toContain(id);
  });
});

describe("POST /api/billing/checkout", () => {
  it("asks an anonymous reader to sign up, keeping the plan: 303 for a form, 401 for a script", async () => {
    const price = await billing.priceOf("core");

    const form = await stack.post("/api/billing/checkout", { price });
    expect(form.status).toBe(303);
    const signUp = new URL(form.headers.get("location") ?? "", stack.baseUrl);
    expect(signUp.pathname).toBe("/signup/");
    expect(signUp.searchParams.get("next")).toBe(`/?plan=${price}#pricing`);

    const json = await billing.postJson("/api/billing/checkout", { price });
    expect(json.status).toBe(401);
  });

  it("keeps no plan that is not a tier's price, nor any plan without a price", async () => {
    const prices = await stack.stripe.prices.list({
      limit: 100,
      expand: ["data.product"],
    });
    const unrelated = prices.data.find(
      (price) =>
        typeof price.product === "object" &&
        !("deleted" in price.product && price.product.deleted) &&
        !price.product.metadata.tier,
    );
    for (const price of [unrelated?.id ?? "", "price_made_up", "/evil", ""]) {
      const form = await stack.post("/api/billing/checkout", { price });
      expect(form.status).toBe(303);
      const signUp = new URL(form.headers.get("location") ?? "", stack.baseUrl);
      expect(signUp.searchParams.get("next"), price).toBe("/#pricing");
    }
  });

  it("carries the plan through sign-up and sign-in to the pricing table, which starts its Checkout", async () => {
    const price = await billing.priceOf("spark", "year");
    const form = await stack.post("/api/billing/checkout", { price });
    const next = new URL(
      form.headers.get("location") ?? "",
      stack.baseUrl,
    ).searchParams.get("next");

    const email = `plan.${Date.now()}@example.com`;
    const password = "correct horse battery";
    const signedUp = await stack.post("/api/auth/signup", {
      email,
      password,
      next: next ?? "",
    });
    expect(signedUp.status).toBe(303);
    expect(signedUp.headers.get("location")).toBe(`/?plan=${price}#pricing`);

    const signedIn = await stack.post("/api/auth/login", {
      email,
      password,
      next: next ?? "",
    });
    expect(signedIn.headers.get("location")).toBe(`/?plan=${price}#pricing`);
    const checkout = await stack.post(
      "/api/billing/checkout",
      { price },
      sessionCookie(signedIn),
    );
    expect(checkout.status).toBe(303);
    expect(checkout.headers.get("location")?.startsWith(stack.stripeUrl)).toBe(true);
  });

  it("refuses a price that belongs to no tier with 400", async () => {
    const reader = await stack.signUp();
    const prices = await stack.stripe.prices.list({
      limit: 100,
      expand: ["data.product"],
    });
    const unrelated = prices.data.find(
      (price) =>
        typeof price.product === "object" &&
        !("deleted" in price.product && price.product.deleted) &&
        !price.product.metadata.tier,
    );
    if (!unrelated) throw new Error("The emulator has no price outside the tiers");

    for (const price of [unrelated.id, "price_made_up", ""]) {
      const response = await billing.postJson(
        "/api/billing/checkout",
        { price },
        reader.cookie,
      );
      expect(response.status).toBe(400);
    }
    expect(billing.userOf(reader).stripe_customer_id).toBeNull();
  });

  it("creates one Stripe customer when a reader clicks twice at once", async () => {
    const reader = await stack.signUp();
    const price = await billing.priceOf("spark");

    const answers = await Promise.all([
      billing.postJson("/api/billing/checkout", { price }, reader.cookie),
      billing.postJson("/api/billing/checkout", { price }, reader.cookie),
      billing.postJson("/api/billing/checkout", { price }, reader.cookie),
    ]);
    for (const answer of answers) expect(answer.status).toBe(200);

    const customerId = billing.userOf(reader).stripe_customer_id;
    expect(customerId).toMatch(/^cus_/);
    const customers = await stack.stripe.customers.list({
      email: reader.email,
      limit: 10,
    });
    expect(customers.data.map((customer) => customer.id)).toEqual([customerId]);
  });
});

describe("a reader who pays for Core", () => {
  let reader: Reader;
  let successUrl: string;

  beforeAll(async () => {
    reader = await stack.signUp();
    successUrl = await billing.subscribe(reader, await billing.priceOf("core"));
  });

  it("is sent back to the success URL with the session id", () => {
    expect(successUrl).toMatch(/\/api\/billing\/success\?session_id=cs_/);
  });

  it("gets Core from the webhook alone, in SQLite and on /api/me", async () => {
    await stack.flushWebhooks();

    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core" },
    ]);
    expect(await billing.tierOnMe(reader)).toBe("core");
  });

  it("is sent on to the account page by the success URL", async () => {
    const url = new URL(successUrl);
    const response = await billing.getAs(`${url.pathname}${url.search}`, reader.cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account/?checkout=success");
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core" },
    ]);
  });

  it("cannot start a second subscription: 409 for a script, the portal for a form", async () => {
    const price = await billing.priceOf("lightning");

    const json = await billing.postJson(
      "/api/billing/checkout",
      { price },
      reader.cookie,
    );
    expect(json.status).toBe(409);
    const body = (await json.json()) as { message: string; data: { url: string } };
    expect(body.message).toBe("You already subscribe; manage your plan in billing.");
    expect(body.data.url.startsWith(stack.stripeUrl)).toBe(true);

    const form = await stack.post("/api/billing/checkout", { price }, reader.cookie);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")?.startsWith(stack.stripeUrl)).toBe(true);
  });

  it("opens the Billing Portal", async () => {
    const response = await stack.post("/api/billing/portal", {}, reader.cookie);
    expect(response.status).toBe(303);
    const portalUrl = response.headers.get("location") ?? "";
    expect(portalUrl.startsWith(stack.stripeUrl)).toBe(true);

    const page = await fetch(portalUrl);
    expect(page.status).toBe(200);
  });

  it("cannot use the success URL of someone else's checkout", async () => {
    const other = await stack.signUp();
    const url = new URL(successUrl);

    const response = await billing.getAs(
      `${url.pathname}${url.search}`,
      other.cookie,
      true,
    );
    expect(response.status).toBe(403);

    const browser = await billing.getAs(`${url.pathname}${url.search}`, other.cookie);
    expect(browser.status).toBe(303);
    const back = formAnswerOf(browser, stack.baseUrl);
    expect(back.location.pathname).toBe("/account/");
    expect(back.location.search).toBe("");
    expect(back.error).toMatch(/another reader/);
    expect(billing.storedSubscriptions(other)).toEqual([]);
    expect(await billing.tierOnMe(other)).toBe("free");
  });

  it("keeps Core through a failed renewal, within the grace period", async () => {
    const [row] = billing.storedSubscriptions(reader);
    const failed = await fetch(
      `${stack.stripeUrl}/_emulator/subscriptions/${row?.id}/payment_failed`,
      { method: "POST" },
    );
    expect(failed.status).toBe(200);
    await stack.flushWebhooks();

    const [pastDue] = billing.query<{ status: string; past_due_since: number | null }>(
      "SELECT status, past_due_since FROM subscription WHERE id = ?",
      row?.id,
    );
    expect(pastDue?.status).toBe("past_due");
    expect(pastDue?.past_due_since).toBeGreaterThan(0);
    expect(await billing.tierOnMe(reader)).toBe("core");

    await fetch(
      `${stack.stripeUrl}/_emulator/subscriptions/${row?.id}/payment_recovered`,
      {
        method: "POST",
      },
    );
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", tier: "core" },
    ]);
    const [recovered] = billing.query<{ past_due_since: number | null }>(
      "SELECT past_due_since FROM subscription WHERE id = ?",
      row?.id,
    );
    expect(recovered?.past_due_since).toBeNull();
  });

  it("is not changed by a forged webhook", async () => {
    await stack.flushWebhooks();
    const before = billing.storedSubscriptions(reader);
    const eventsBefore = billing.recordedEvents();
    const [row] = before;
    const payload = JSON.stringify({
      id: "evt_forged_cancel",
      object: "event",
      type: "customer.subscription.deleted",
      data: {
        object: { id: row?.id, object: "subscription", customer: row?.customer_id },
      },
    });

    const wrongSecret = await billing.postWebhook(
      payload,
      billing.sign(payload, { secret: "whsec_not_ours" }),
    );
    expect(wrongSecret.status).toBe(400);
    const unsigned = await billing.postWebhook(payload);
    expect(unsigned.status).toBe(400);

    expect(billing.storedSubscriptions(reader)).toEqual(before);
    expect(billing.recordedEvents()).toEqual(eventsBefore);
  });

  it("is not changed by a duplicate event", async () => {
    await stack.flushWebhooks();
    const [first] = billing.query<{ id: string }>(
      "SELECT id FROM stripe_event WHERE type = 'customer.subscription.created'",
    );
    if (!first) throw new Error("No subscription event was recorded");
    const event = await stack.stripe.events.retrieve(first.id);
    const payload = JSON.stringify(event);
    const before = billing.storedSubscriptions(reader);

    const response = await billing.postWebhook(payload, billing.sign(payload));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, duplicate: true });
    expect(billing.storedSubscriptions(reader)).toEqual(before);
  });
});

describe("a reader who pays while Stripe's API is down", () => {
  let reader: Reader;
  let successPath: string;

  beforeAll(async () => {
    reader = await stack.signUp();
    const price = await billing.priceOf("core");
    const checkout = await stack.post("/api/billing/checkout", { price }, reader.cookie);
    // The webhook is held as well: Stripe would retry it until the server,
    // which asks Stripe on every event, can apply it.
    await billing.emulator.hold();
    await billing.emulator.outage(true);
    const paid = await payOnCheckoutPage(checkout.headers.get("location") ?? "");
    const url = new URL(paid.headers.get("location") ?? "");
    successPath = `${url.pathname}${url.search}`;
  });

  afterAll(async () => {
    await billing.emulator.outage(false);
    await billing.emulator.stopHolding();
  });

  it("is told the payment is being confirmed and not to pay again, never to try again", async () => {
    const form = await billing.getAs(successPath, reader.cookie);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/account/?checkout=confirming");
    expect(flashOf(form)).toBeNull();

    const json = await billing.getAs(successPath, reader.cookie, true);
    expect(json.status).toBe(202);
    expect(await json.json()).toEqual({
      checkout: "confirming",
      message: expect.stringMatching(/do not pay again/),
      location: "/account/?checkout=confirming",
    });
    expect(await billing.tierOnMe(reader)).toBe("free");
  });

  it("gets Core once Stripe is back and the webhook lands; the success URL then says so", async () => {
    await billing.emulator.outage(false);
    await billing.emulator.release();
    await stack.flushWebhooks();
    expect(await billing.tierOnMe(reader)).toBe("core");

    const back = await billing.getAs(successPath, reader.cookie);
    expect(back.headers.get("location")).toBe("/account/?checkout=success");
  });
});

describe("a Checkout that was never paid", () => {
  it("grants nothing on the success URL", async () => {
    const reader = await stack.signUp();
    const started = await billing.postJson(
      "/api/billing/checkout",
      { price: await billing.priceOf("lightning") },
      reader.cookie,
    );
    expect(started.status).toBe(200);

    const customer = billing.userOf(reader).stripe_customer_id ?? "";
    const sessions = await stack.stripe.checkout.sessions.list({ customer, limit: 10 });
    const [session] = sessions.data;
    expect(session?.status).toBe("open");
    if (!session) throw new Error("The server's Checkout session is not on the emulator");

    const response = await billing.getAs(
      `/api/billing/success?session_id=${session.id}`,
      reader.cookie,
    );
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account/?checkout=incomplete");
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");
  });

  it("answers 404 for a session Stripe does not know", async () => {
    const reader = await stack.signUp();
    const response = await billing.getAs(
      "/api/billing/success?session_id=cs_test_unknown",
      reader.cookie,
      true,
    );
    expect(response.status).toBe(404);
  });
});

describe("a Checkout that is complete but not paid yet (a bank debit still settling)", () => {
  it("grants nothing on the success URL, answered as incomplete, and leaves the reader free to check out again", async () => {
    const reader = await stack.signUp();
    const price = await billing.priceOf("core");
    const started = await billing.postJson(
      "/api/billing/checkout",
      { price },
      reader.cookie,
    );
    expect(started.status).toBe(200);
    const { url } = (await started.json()) as { url: string };
    const sessionId = new URL(url).pathname.split("/").pop() ?? "";

    await billing.emulator.hold();
    const completed = await billing.emulator.control<{
      status: string;
      payment_status: string;
    }>(`checkout/sessions/${sessionId}/complete`, { payment: "pending" });
    expect(completed).toMatchObject({ status: "complete", payment_status: "unpaid" });

    const successPath = `/api/billing/success?session_id=${sessionId}`;
    const form = await billing.getAs(successPath, reader.cookie);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/account/?checkout=incomplete");
    const json = await billing.getAs(successPath, reader.cookie, true);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({
      checkout: "incomplete",
      location: "/account/?checkout=incomplete",
    });
    expect(billing.storedSubscriptions(reader)).toEqual([]);
    expect(await billing.tierOnMe(reader)).toBe("free");

    await billing.emulator.stopHolding();
    const released = await billing.emulator.release();
    expect(released.map((d) => d.type)).toEqual([
      "checkout.session.completed",
      "customer.subscription.created",
    ]);
    expect(released.map((d) => d.status)).toEqual([200, 200]);
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "incomplete", tier: "core" },
    ]);
    expect(await billing.tierOnMe(reader)).toBe("free");

    // The portal cannot finish an incomplete first payment: no 409 to it.
    const again = await billing.postJson(
      "/api/billing/checkout",
      { price },
      reader.cookie,
    );
    expect(again.status).toBe(200);
    const next = (await again.json()) as { url: string };
    expect(next.url.startsWith(stack.stripeUrl)).toBe(true);
  });
});

describe("POST /api/stripe/webhook", () => {
  it("answers 200 to an event type it does not listen to, and records nothing", async () => {
    const payload = JSON.stringify({
      id: `evt_unknown_${Date.now()}`,
      object: "event",
      type: "tierwall.test.unknown",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "obj_1", object: "thing" } },
    });

    const response = await billing.postWebhook(payload, billing.sign(payload));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, ignored: true });
    const id = (JSON.parse(payload) as { id: string }).id;
    expect(billing.recordedEvents().map((event) => event.id)).not.toContain(id);
  });
});

describe("POST /api/billing/portal", () => {
  it("tells a reader without a billing account to pick a plan first", async () => {
    const reader = await stack.signUp();

    const json = await billing.postJson("/api/billing/portal", {}, reader.cookie);
    expect(json.status).toBe(400);
    expect(((await json.json()) as { message: string }).message).toBe(
      "You have no billing account yet.",
    );

    const form = await stack.post("/api/billing/portal", {}, reader.cookie);
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/#pricing");
    expect(formAnswerOf(form, stack.baseUrl).error).toBe(
      "You have no billing account yet.",
    );
  });
});

describe("when Stripe cannot be reached", () => {
  let offline: Stack;

  beforeAll(async () => {
    // The emulator still delivers webhooks, but the server's API calls go nowhere.
    offline = await startStack({ env: { STRIPE_API_BASE: "http://127.0.0.1:9" } });
  });

  afterAll(async () => {
    await offline?.stop();
  });

  it("answers /api/pricing with 503", async () => {
    const response = await fetch(`${offline.baseUrl}/api/pricing`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { message: string };
    expect(body.message).toBe("Pricing is unavailable right now.");
  });

  it("answers a webhook it cannot apply with 500 and records nothing", async () => {
    const endpoints = (await (
      await fetch(`${offline.stripeUrl}/_emulator/webhook_endpoints`)
    ).json()) as { url: string; secret: string }[];
    const secret = endpoints.find((e) => e.url.startsWith(offline.baseUrl))?.secret ?? "";
    const payload = JSON.stringify({
      id: "evt_offline_1",
      object: "event",
      type: "customer.subscription.updated",
      data: { object: { id: "sub_1", object: "subscription", customer: "cus_1" } },
    });
    const signature = offline.stripe.webhooks.generateTestHeaderString({
      payload,
      secret,
    });

    const response = await fetch(`${offline.baseUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    });
    expect(response.status).toBe(500);

    const db = offline.openDb();
    const recorded = db
      .prepare("SELECT id FROM stripe_event WHERE id = 'evt_offline_1'")
      .get();
    db.close();
    expect(recorded).toBeUndefined();
  });
});
