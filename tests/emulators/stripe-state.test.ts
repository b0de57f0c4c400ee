import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { startStripeEmulator } from "../../emulators/stripe/index.ts";
import { stripeFor, subscribe } from "./support/stripe.ts";

const folder = mkdtempSync(join(tmpdir(), "stripe-emulator-state-"));

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe("state", () => {
  test("with a statePath, a restarted emulator keeps catalog, customers and subscriptions", async () => {
    const statePath = join(folder, "not-yet-created", "stripe.json");
    const first = await startStripeEmulator({ statePath });
    const { customer, subscription } = await subscribe(stripeFor(first), "core_monthly");
    const prices = await stripeFor(first).prices.list({ limit: 100 });
    await first.close();

    const second = await startStripeEmulator({ statePath });
    const stripe = stripeFor(second);
    try {
      const restored = await stripe.subscriptions.retrieve(subscription.id);
      const pricesAgain = await stripe.prices.list({ limit: 100 });

      expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
      expect(restored.items.data[0]?.price.lookup_key).toBe("core_monthly");
      expect(pricesAgain.data.map((p) => p.id)).toEqual(prices.data.map((p) => p.id));
    } finally {
      await second.close();
    }
  });

  test("reset forgets customers and restores the catalog but keeps webhook endpoints", async () => {
    const emulator = await startStripeEmulator();
    const stripe = stripeFor(emulator);
    try {
      const endpoint = await stripe.webhookEndpoints.create({
        url: "http://127.0.0.1:9/webhook",
        enabled_events: ["*"],
      });
      await stripe.products.create({ name: "Temporary" });
      const { customer } = await subscribe(stripe, "spark_monthly");

      const response = await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });

      expect(response.status).toBe(200);
      await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({
        statusCode: 404,
      });
      const names = (await stripe.products.list({ limit: 100 })).data.map((p) => p.name);
      expect(names.sort()).toEqual([
        "Core Stacker",
        "Lightning Stacker",
        "Spark Stacker",
        "Sticker pack",
      ]);
      expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).url).toBe(
        endpoint.url,
      );
    } finally {
      await emulator.close();
    }
  });
});
