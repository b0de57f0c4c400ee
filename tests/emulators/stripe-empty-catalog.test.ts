import { describe, expect, test } from "vitest";
import { control, useStripeEmulator } from "./support/stripe.ts";

/*
 * The emulator started with `catalog: "empty"`: an account with no products or
 * prices, as a new Stripe account is before `npm run stripe:setup` runs.
 */

const env = useStripeEmulator({ catalog: "empty" });

describe("an emulator with an empty catalog", () => {
  test("lists no products and no prices, but has the default portal configuration", async () => {
    expect((await env.stripe.products.list()).data).toEqual([]);
    expect((await env.stripe.prices.list()).data).toEqual([]);
    const configurations = await env.stripe.billingPortal.configurations.list();
    expect(configurations.data.map((c) => c.is_default)).toEqual([true]);
  });

  test("keeps what is created, and a reset empties it again", async () => {
    const product = await env.stripe.products.create({ name: "Zine" });
    await env.stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 300,
      recurring: { interval: "month" },
    });
    expect((await env.stripe.products.list()).data.map((p) => p.id)).toEqual([
      product.id,
    ]);

    expect((await control(env.emulator, "reset")).status).toBe(200);
    expect((await env.stripe.products.list()).data).toEqual([]);
    expect((await env.stripe.prices.list()).data).toEqual([]);
  });
});
