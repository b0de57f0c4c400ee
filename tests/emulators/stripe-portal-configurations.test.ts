import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type StripeEmulator,
  startStripeEmulator,
} from "../../emulators/stripe/index.ts";
import { callApi, seededPrice, stripeFor } from "./support/stripe.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emulator = await startStripeEmulator();
  stripe = stripeFor(emulator);
});

afterAll(async () => {
  await emulator.close();
});

async function tierPlans(): Promise<{ product: string; prices: string[] }[]> {
  const plans = [];
  for (const tier of ["spark", "core"]) {
    const monthly = await seededPrice(stripe, `${tier}_monthly`);
    const yearly = await seededPrice(stripe, `${tier}_yearly`);
    plans.push({ product: String(monthly.product), prices: [monthly.id, yearly.id] });
  }
  return plans;
}

describe("billing portal configurations", () => {
  test("lists the account's default configuration from the start", async () => {
    const list = await stripe.billingPortal.configurations.list({ is_default: true });

    expect(list.url).toBe("/v1/billing_portal/configurations");
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({
      object: "billing_portal.configuration",
      is_default: true,
      active: true,
    });
  });

  test("creates a configuration with its features, products and metadata", async () => {
    const products = await tierPlans();
    const created = await stripe.billingPortal.configurations.create({
      business_profile: { headline: "The Stacker" },
      default_return_url: "http://site.test/account/",
      features: {
        invoice_history: { enabled: true },
        payment_method_update: { enabled: true },
        subscription_cancel: { enabled: true, mode: "at_period_end" },
        subscription_update: {
          enabled: true,
          default_allowed_updates: ["price"],
          proration_behavior: "create_prorations",
          products,
        },
      },
      metadata: { tierwall: "portal" },
    });

    expect(created.id).toMatch(/^bpc_/);
    expect(created).toMatchObject({
      is_default: false,
      active: true,
      default_return_url: "http://site.test/account/",
      business_profile: { headline: "The Stacker" },
      metadata: { tierwall: "portal" },
      login_page: { enabled: false, url: null },
    });
    expect(created.features.subscription_cancel).toMatchObject({
      enabled: true,
      mode: "at_period_end",
    });
    expect(created.features.customer_update.enabled).toBe(false);
    expect(created.features.subscription_update.products).toEqual(
      products.map((plan) => ({
        ...plan,
        adjustable_quantity: { enabled: false, maximum: null, minimum: 1 },
      })),
    );

    const retrieved = await stripe.billingPortal.configurations.retrieve(created.id);
    expect(retrieved).toEqual(created);
  });

  test("updates features, deactivates, and lists by active", async () => {
    const created = await stripe.billingPortal.configurations.create({
      features: { invoice_history: { enabled: true } },
    });

    const updated = await stripe.billingPortal.configurations.update(created.id, {
      active: false,
      features: {
        invoice_history: { enabled: false },
        payment_method_update: { enabled: true },
      },
      metadata: { marker: "x" },
    });
    expect(updated.active).toBe(false);
    expect(updated.features.invoice_history.enabled).toBe(false);
    expect(updated.features.payment_method_update.enabled).toBe(true);
    expect(updated.metadata).toEqual({ marker: "x" });

    const inactive = await stripe.billingPortal.configurations.list({ active: false });
    expect(inactive.data.map((configuration) => configuration.id)).toContain(created.id);
    const active = await stripe.billingPortal.configurations.list({ active: true });
    expect(active.data.map((configuration) => configuration.id)).not.toContain(
      created.id,
    );
  });

  test("refuses a price listed under another product", async () => {
    const spark = await seededPrice(stripe, "spark_monthly");
    const core = await seededPrice(stripe, "core_monthly");

    const response = await callApi(
      emulator,
      "POST",
      "/v1/billing_portal/configurations",
      {
        "features[subscription_update][enabled]": "true",
        "features[subscription_update][products][0][product]": String(spark.product),
        "features[subscription_update][products][0][prices][0]": core.id,
      },
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      type: "invalid_request_error",
      param: "features[subscription_update][products][0][prices]",
    });
  });

  test("answers 404 for an unknown configuration and 400 for a bad parameter", async () => {
    const missing = await callApi(
      emulator,
      "GET",
      "/v1/billing_portal/configurations/bpc_nope",
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "resource_missing" });

    const bad = await callApi(emulator, "POST", "/v1/billing_portal/configurations", {
      "features[subscription_cancel][mode]": "whenever",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      param: "features[subscription_cancel][mode]",
    });
  });
});
