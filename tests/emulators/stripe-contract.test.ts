import type Stripe from "stripe";
import { beforeAll, describe, expect, test } from "vitest";
import { loadContract } from "./support/contracts.ts";
import {
  checkComponent,
  checkSchema,
  describeProblems,
  responseSchema,
} from "./support/openapi-check.ts";
import {
  advanceClock,
  advanceClockPast,
  callApi,
  control,
  seededPrice,
  submitCheckoutForm,
  submitForm,
  subscribe,
  useStripeEmulator,
} from "./support/stripe.ts";

/*
 * Holds the emulator's responses to Stripe's published OpenAPI schemas
 * (../shared/contracts/stripe-subset.json): required fields present, types,
 * enums and nullability right, and no field the schema does not list. The
 * requests go over plain HTTP so the JSON is checked exactly as sent.
 */

const contract = loadContract("stripe-subset.json");

let customer: Stripe.Customer;
let subscription: Stripe.Subscription;

const env = useStripeEmulator();

beforeAll(async () => {
  ({ customer, subscription } = await subscribe(
    env.stripe,
    "core_monthly",
    "contract@example.com",
  ));
});

async function expectConforms(
  method: "GET" | "POST" | "DELETE",
  template: string,
  path: string,
  form?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const { status, body } = await callApi(env.emulator, method, path, form);
  expect(status, JSON.stringify(body)).toBe(200);
  const schema = responseSchema(contract, template, method.toLowerCase());
  expect(describeProblems(checkSchema(contract, schema, body))).toBe("");
  return body;
}

function expectComponent(name: string, value: unknown): void {
  expect(describeProblems(checkComponent(contract, name, value))).toBe("");
}

describe("Stripe contract", () => {
  test("product list and price list, with products expanded", async () => {
    const products = await expectConforms(
      "GET",
      "/v1/products",
      "/v1/products?limit=100",
    );
    await expectConforms(
      "GET",
      "/v1/prices",
      "/v1/prices?limit=100&expand[]=data.product",
    );

    expect((products.data as unknown[]).length).toBe(4);
  });

  test("a price, plain and with its product expanded", async () => {
    const price = await seededPrice(env.stripe, "spark_yearly");
    await expectConforms("GET", "/v1/prices/{price}", `/v1/prices/${price.id}`);
    const expanded = await expectConforms(
      "GET",
      "/v1/prices/{price}",
      `/v1/prices/${price.id}?expand[]=product`,
    );

    // `product` is anyOf(id, product, deleted_product), and deleted_product is a
    // stub that accepts any object, so the expanded product is checked on its own.
    expect((expanded.product as { object: string }).object).toBe("product");
    expectComponent("product", expanded.product);
  });

  test("a customer: created, retrieved with subscriptions, and found by search", async () => {
    await expectConforms("POST", "/v1/customers", "/v1/customers", {
      email: "shape@example.com",
      "metadata[user_id]": "u1",
    });
    await expectConforms(
      "GET",
      "/v1/customers/{customer}",
      `/v1/customers/${customer.id}?expand[]=subscriptions`,
    );
    await expectConforms(
      "GET",
      "/v1/customers/search",
      `/v1/customers/search?query=${encodeURIComponent("email:'contract@example.com'")}`,
    );
  });

  test("a Checkout Session, open and then completed with everything expanded", async () => {
    const price = await seededPrice(env.stripe, "lightning_monthly");
    const open = await expectConforms(
      "POST",
      "/v1/checkout/sessions",
      "/v1/checkout/sessions",
      {
        mode: "subscription",
        customer: customer.id,
        "line_items[0][price]": price.id,
        "line_items[0][quantity]": "1",
        success_url: "http://site.test/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url: "http://site.test/pricing",
        client_reference_id: "user_1",
        "subscription_data[trial_period_days]": "7",
      },
    );
    await submitCheckoutForm(String(open.url), { card_number: "4242424242424242" });

    const expand = ["subscription", "customer", "invoice", "line_items"]
      .map((path) => `expand[]=${path}`)
      .join("&");
    const done = await expectConforms(
      "GET",
      "/v1/checkout/sessions/{session}",
      `/v1/checkout/sessions/${open.id}?${expand}`,
    );
    expectComponent("customer", done.customer);
    expect((done.subscription as { status: string }).status).toBe("trialing");
  });

  test("a subscription, its items, and the subscription list", async () => {
    const sub = await expectConforms(
      "GET",
      "/v1/subscriptions/{subscription_exposed_id}",
      `/v1/subscriptions/${subscription.id}?expand[]=items.data.price.product&expand[]=latest_invoice`,
    );
    await expectConforms("GET", "/v1/subscriptions", "/v1/subscriptions?status=all");

    for (const item of (sub.items as { data: unknown[] }).data)
      expectComponent("subscription_item", item);
    expect(sub).not.toHaveProperty("current_period_end");
  });

  test("a subscription scheduled to cancel, and one canceled", async () => {
    await callApi(env.emulator, "POST", `/v1/subscriptions/${subscription.id}`, {
      cancel_at_period_end: "true",
    });
    await expectConforms(
      "GET",
      "/v1/subscriptions/{subscription_exposed_id}",
      `/v1/subscriptions/${subscription.id}`,
    );

    const { subscription: other } = await subscribe(env.stripe, "spark_monthly");
    const canceled = await callApi(
      env.emulator,
      "DELETE",
      `/v1/subscriptions/${other.id}`,
    );
    expectComponent("subscription", canceled.body);
  });

  test("an invoice", async () => {
    const { body } = await callApi(
      env.emulator,
      "GET",
      `/v1/invoices/${subscription.latest_invoice}`,
    );
    expectComponent("invoice", body);
  });

  test("a billing portal session", async () => {
    await expectConforms(
      "POST",
      "/v1/billing_portal/sessions",
      "/v1/billing_portal/sessions",
      {
        customer: customer.id,
        return_url: "http://site.test/account/",
      },
    );
  });

  test("every event, and the object inside it", async () => {
    const events = await env.stripe.events.list({ limit: 100 });
    expect(events.data.length).toBeGreaterThan(5);

    for (const { id } of events.data) {
      const event = await expectConforms("GET", "/v1/events/{id}", `/v1/events/${id}`);
      const object = (event.data as { object: { object: string } }).object;
      expectComponent(object.object, object);
    }
  });

  test("a subscription created through the API with a trial", async () => {
    const price = await seededPrice(env.stripe, "spark_monthly");
    const { status, body } = await callApi(env.emulator, "POST", "/v1/subscriptions", {
      customer: customer.id,
      "items[0][price]": price.id,
      trial_period_days: "14",
      "metadata[user_id]": "u1",
    });

    expect(status, JSON.stringify(body)).toBe(200);
    expectComponent("subscription", body);
    expect(body).toMatchObject({ status: "trialing" });
    await expectConforms(
      "GET",
      "/v1/subscriptions/{subscription_exposed_id}",
      `/v1/subscriptions/${body.id}?expand[]=latest_invoice`,
    );
  });

  test("an invoice retried after a failed renewal, with its attempt_count", async () => {
    const { customer: payer, subscription: renewing } = await subscribe(
      env.stripe,
      "lightning_monthly",
    );
    await control(env.emulator, `customers/${payer.id}/card`, {
      number: "4000002760003184",
    });
    await advanceClockPast(env.emulator, renewing.items.data[0]?.current_period_end ?? 0);
    await advanceClock(env.emulator, 3);

    const sub = await env.stripe.subscriptions.retrieve(renewing.id);
    const { body } = await callApi(
      env.emulator,
      "GET",
      `/v1/invoices/${sub.latest_invoice}`,
    );
    expectComponent("invoice", body);
    expect(body).toMatchObject({ status: "open", attempt_count: 2 });
  });

  test("the event list, each event and the object inside it", async () => {
    const { status, body } = await callApi(env.emulator, "GET", "/v1/events?limit=100");
    const events = body.data as { type: string; data: { object: { object: string } } }[];

    expect(status).toBe(200);
    expect(body).toMatchObject({ object: "list", url: "/v1/events" });
    // The trial and the failed renewal of the two tests above produced these.
    const types = new Set(events.map((event) => event.type));
    for (const type of [
      "customer.subscription.trial_will_end",
      "invoice.payment_action_required",
      "invoice.payment_failed",
    ]) {
      expect(types).toContain(type);
    }
    for (const event of events) {
      expectComponent("event", event);
      expectComponent(event.data.object.object, event.data.object);
    }
  });

  test("an error", async () => {
    const { status, body } = await callApi(
      env.emulator,
      "GET",
      "/v1/prices/price_missing",
    );

    expect(status).toBe(404);
    const schema = responseSchema(contract, "/v1/prices/{price}", "get", "default");
    expect(describeProblems(checkSchema(contract, schema, body))).toBe("");
  });

  // Last, so the coupon events (no schema in the subset) stay out of the event tests.
  test("a Checkout Session paid with a promotion code, its subscription and invoice", async () => {
    const coupon = await env.stripe.coupons.create({
      percent_off: 15,
      duration: "forever",
    });
    const promo = await env.stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
    });
    const price = await seededPrice(env.stripe, "core_monthly");
    const open = await env.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "http://site.test/ok?session_id={CHECKOUT_SESSION_ID}",
      allow_promotion_codes: true,
    });
    await submitForm(open.url ?? "", {
      card_number: "4242424242424242",
      card_expiry: "12 / 34",
      card_cvc: "123",
      promotion_code: promo.code,
    });

    const done = await expectConforms(
      "GET",
      "/v1/checkout/sessions/{session}",
      `/v1/checkout/sessions/${open.id}?expand[]=line_items`,
    );
    expect(done).toMatchObject({ amount_total: 1020, status: "complete" });
    const sub = await expectConforms(
      "GET",
      "/v1/subscriptions/{subscription_exposed_id}",
      `/v1/subscriptions/${done.subscription}?expand[]=latest_invoice`,
    );
    expect(sub.discounts).toHaveLength(1);
    expectComponent("invoice", sub.latest_invoice);
  });
});
