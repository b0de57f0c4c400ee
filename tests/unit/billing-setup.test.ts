import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { Tier } from "../../lib/config.ts";
import { HANDLED_EVENT_TYPES } from "../../server/billing/events.ts";
import {
  findTierProduct,
  portalConfigurationParams,
  portalShape,
  priceMatches,
  productChanges,
  wantedPrices,
  webhookEndpointMatches,
} from "../../server/billing/setup.ts";
import { price, product } from "./billing-fixtures.ts";

const core: Tier = {
  id: "core",
  name: "Core Stacker",
  description: "Runbooks and teardowns.",
  prices: { currency: "usd", monthly: 1200, yearly: 12000 },
};

describe("planning the Stripe setup", () => {
  it("wants one price per interval the tier lists, keyed by lookup key", () => {
    expect(wantedPrices("core", { currency: "usd", yearly: 12000 })).toEqual([
      { lookupKey: "core_yearly", interval: "year", amount: 12000, currency: "usd" },
    ]);
    expect(
      wantedPrices("core", core.prices ?? { currency: "usd" }).map((p) => p.lookupKey),
    ).toEqual(["core_monthly", "core_yearly"]);
  });

  it("finds a tier's product by metadata, preferring an active one", () => {
    const archived = product("prod_old", "core", { active: false });
    const live = product("prod_live", "core");
    const other = product("prod_stickers", null);

    expect(findTierProduct([archived, other, live], "core")?.id).toBe("prod_live");
    expect(findTierProduct([archived], "core")?.id).toBe("prod_old");
    expect(findTierProduct([other], "core")).toBeNull();
  });

  it("updates a product only where it differs from the tier", () => {
    const same = product("prod_core", "core", {
      name: "Core Stacker",
      description: "Runbooks and teardowns.",
    });
    expect(productChanges(same, core)).toBeNull();

    const renamed = product("prod_core", "core", {
      name: "Core",
      description: "Runbooks and teardowns.",
      active: false,
    });
    expect(productChanges(renamed, core)).toEqual({ name: "Core Stacker", active: true });
  });

  it("keeps a price only when product, currency, amount and interval all match", () => {
    const [monthly] = wantedPrices("core", { currency: "usd", monthly: 1200 });
    if (!monthly) throw new Error("no monthly price wanted");
    const matching = price("price_1", "prod_core", { unit_amount: 1200 });

    expect(priceMatches(matching, monthly, "prod_core")).toBe(true);
    expect(priceMatches(matching, monthly, "prod_other")).toBe(false);
    expect(
      priceMatches(price("p", "prod_core", { unit_amount: 1300 }), monthly, "prod_core"),
    ).toBe(false);
    expect(
      priceMatches(
        price("p", "prod_core", { unit_amount: 1200, currency: "eur" }),
        monthly,
        "prod_core",
      ),
    ).toBe(false);
    expect(
      priceMatches(
        price("p", "prod_core", { unit_amount: 1200, interval: "year" }),
        monthly,
        "prod_core",
      ),
    ).toBe(false);
  });

  it("configures the portal for plan switching, cancellation at period end, cards and invoices", () => {
    const params = portalConfigurationParams("The Stacker", "https://x.test/account/", [
      { productId: "prod_core", priceIds: ["price_m", "price_y"] },
      { productId: "prod_empty", priceIds: [] },
    ]);

    expect(params.metadata).toEqual({ tierwall: "portal" });
    expect(params.default_return_url).toBe("https://x.test/account/");
    expect(params.features.subscription_update).toMatchObject({
      enabled: true,
      default_allowed_updates: ["price"],
      products: [{ product: "prod_core", prices: ["price_m", "price_y"] }],
    });
    expect(params.features.subscription_cancel).toMatchObject({
      enabled: true,
      mode: "at_period_end",
    });
    expect(params.features.payment_method_update?.enabled).toBe(true);
    expect(params.features.invoice_history?.enabled).toBe(true);
  });

  it("compares a portal configuration with the wanted one, ignoring price order", () => {
    const params = portalConfigurationParams("The Stacker", "https://x.test/account/", [
      { productId: "prod_core", priceIds: ["price_m", "price_y"] },
    ]);
    const reordered = portalConfigurationParams(
      "The Stacker",
      "https://x.test/account/",
      [{ productId: "prod_core", priceIds: ["price_y", "price_m"] }],
    );
    const changed = portalConfigurationParams("The Stacker", "https://x.test/account/", [
      { productId: "prod_core", priceIds: ["price_m", "price_new"] },
    ]);

    expect(portalShape(reordered)).toBe(portalShape(params));
    expect(portalShape(changed)).not.toBe(portalShape(params));
  });

  it("keeps a webhook endpoint that is enabled and listens to exactly the handled events", () => {
    const endpoint = (enabled_events: string[], status = "enabled") =>
      ({ enabled_events, status }) as unknown as Stripe.WebhookEndpoint;

    expect(webhookEndpointMatches(endpoint([...HANDLED_EVENT_TYPES].reverse()))).toBe(
      true,
    );
    expect(webhookEndpointMatches(endpoint(["*"]))).toBe(false);
    expect(webhookEndpointMatches(endpoint(HANDLED_EVENT_TYPES.slice(1)))).toBe(false);
    expect(webhookEndpointMatches(endpoint([...HANDLED_EVENT_TYPES], "disabled"))).toBe(
      false,
    );
  });
});
