import Stripe from "stripe";
import { describe, expect, test } from "vitest";
import { callApi, emulatorEvents, useStripeEmulator } from "./support/stripe.ts";

const env = useStripeEmulator();

describe("catalog", () => {
  test("lists the three tier products and the sticker pack, which has no tier", async () => {
    const products = await env.stripe.products.list({ active: true, limit: 100 });
    const byName = Object.fromEntries(
      products.data.map((p) => [p.name, p.metadata.tier]),
    );

    expect(byName).toEqual({
      "Spark Stacker": "spark",
      "Core Stacker": "core",
      "Lightning Stacker": "lightning",
      "Sticker pack": undefined,
    });
  });

  test("lists recurring prices with their products expanded", async () => {
    const prices = await env.stripe.prices.list({
      active: true,
      type: "recurring",
      expand: ["data.product"],
      limit: 100,
    });

    expect(prices.object).toBe("list");
    expect(prices.url).toBe("/v1/prices");
    expect(prices.data).toHaveLength(6);
    for (const price of prices.data) {
      const product = price.product as Stripe.Product;
      expect(product.object).toBe("product");
      expect(price.lookup_key).toBe(
        `${product.metadata.tier}_${price.recurring?.interval === "month" ? "monthly" : "yearly"}`,
      );
    }
    const core = prices.data.find((price) => price.lookup_key === "core_monthly");
    expect(core).toMatchObject({ currency: "usd", unit_amount: 1200, type: "recurring" });
  });

  test("finds prices by lookup key and by product", async () => {
    const found = await env.stripe.prices.list({
      lookup_keys: ["spark_yearly", "lightning_monthly"],
    });
    expect(found.data.map((price) => price.lookup_key).sort()).toEqual([
      "lightning_monthly",
      "spark_yearly",
    ]);

    const product = String(found.data[0]?.product);
    const ofProduct = await env.stripe.prices.list({ product });
    expect(ofProduct.data).toHaveLength(2);
    expect(ofProduct.data.every((price) => price.product === product)).toBe(true);
  });

  test("pages through a list with limit and starting_after", async () => {
    const first = await env.stripe.prices.list({ limit: 4 });
    const second = await env.stripe.prices.list({
      limit: 4,
      starting_after: first.data[3]?.id,
    });

    expect(first.has_more).toBe(true);
    expect(second.has_more).toBe(false);
    const ids = [...first.data, ...second.data].map((price) => price.id);
    expect(new Set(ids).size).toBe(7);
  });

  test("creates and updates products and prices, emitting product.* and price.* events", async () => {
    const product = await env.stripe.products.create({
      name: "Zine",
      metadata: { tier: "zine" },
    });
    const price = await env.stripe.prices.create({
      product: product.id,
      currency: "eur",
      unit_amount: 300,
      recurring: { interval: "month" },
      lookup_key: "zine_monthly",
    });
    await env.stripe.products.update(product.id, {
      name: "Zine Stacker",
      metadata: { tier: "" },
    });
    await env.stripe.prices.update(price.id, { active: false });

    expect((await env.stripe.products.retrieve(product.id)).metadata).toEqual({});
    expect((await env.stripe.prices.retrieve(price.id)).active).toBe(false);
    const types = (await emulatorEvents(env.emulator))
      .filter((event) => event.object_id === product.id || event.object_id === price.id)
      .map((event) => event.type);
    expect(types).toEqual([
      "product.created",
      "price.created",
      "product.updated",
      "price.updated",
    ]);
  });

  test("refuses a lookup key that another price holds, unless it is transferred", async () => {
    const product = await env.stripe.products.create({ name: "Spark again" });
    const create = (transfer: boolean) =>
      env.stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 600,
        recurring: { interval: "month" },
        lookup_key: "spark_monthly",
        transfer_lookup_key: transfer,
      });

    await expect(create(false)).rejects.toThrow(/already uses that lookup key/);
    const moved = await create(true);
    const holders = await env.stripe.prices.list({ lookup_keys: ["spark_monthly"] });
    expect(holders.data.map((price) => price.id)).toEqual([moved.id]);
  });
});

describe("customers", () => {
  test("creates, updates, lists by email and searches by email and metadata", async () => {
    const email = `c.${Date.now()}@example.com`;
    const customer = await env.stripe.customers.create({
      email,
      metadata: { user_id: "u-17" },
    });
    await env.stripe.customers.update(customer.id, { name: "Ada" });

    const listed = await env.stripe.customers.list({ email });
    const byEmail = await env.stripe.customers.search({ query: `email:'${email}'` });
    const byMetadata = await env.stripe.customers.search({
      query: "metadata['user_id']:'u-17'",
    });

    expect(listed.data.map((c) => c.id)).toEqual([customer.id]);
    expect(listed.data[0]?.name).toBe("Ada");
    expect(byEmail.data.map((c) => c.id)).toEqual([customer.id]);
    expect(byMetadata.data.map((c) => c.id)).toEqual([customer.id]);
  });

  test("an unknown ID raises StripeInvalidRequestError with resource_missing", async () => {
    const error = await env.stripe.customers
      .retrieve("cus_missing")
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  test("a missing required parameter is named in the error", async () => {
    const error = await env.stripe.products
      .create({} as Stripe.ProductCreateParams)
      .catch((e) => e);

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, param: "name" });
  });
});

describe("requests", () => {
  test("answer 401 with a Stripe-shaped error when no test key is sent", async () => {
    const response = await fetch(`${env.emulator.url}/v1/products`);
    const body = await response.json();

    expect(response.status).toBe(401);
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/API key/);
  });

  test("a live key is refused", async () => {
    const url = new URL(env.emulator.url);
    const live = new Stripe("sk_live_nope", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
    });

    await expect(live.products.list()).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });

  test("an unknown route answers Stripe's 404", async () => {
    const { status, body } = await callApi(env.emulator, "GET", "/v1/payouts");

    expect(status).toBe(404);
    expect(body).toEqual({
      error: {
        type: "invalid_request_error",
        message: "Unrecognized request URL (GET: /v1/payouts).",
      },
    });
  });

  test("the same Idempotency-Key returns the first response and creates nothing new", async () => {
    const email = `idem.${Date.now()}@example.com`;
    const first = await env.stripe.customers.create(
      { email },
      { idempotencyKey: "signup-42" },
    );
    const again = await env.stripe.customers.create(
      { email },
      { idempotencyKey: "signup-42" },
    );

    expect(again.id).toBe(first.id);
    expect((await env.stripe.customers.list({ email })).data).toHaveLength(1);
  });

  test("an Idempotency-Key reused with other parameters is refused", async () => {
    await env.stripe.customers.create(
      { email: "one@example.com" },
      { idempotencyKey: "reuse-1" },
    );
    const error = await env.stripe.customers
      .create({ email: "two@example.com" }, { idempotencyKey: "reuse-1" })
      .catch((e) => e);

    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  test("expanding a field that is not expandable is refused", async () => {
    const error = await env.stripe.prices
      .list({ expand: ["data.currency"] })
      .catch((e) => e);

    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.message).toMatch(/cannot be expanded \(data\.currency\)/);
  });
});
