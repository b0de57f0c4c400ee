import { describe, expect, it } from "vitest";
import { defineTierwallConfig, type TierwallConfigInput } from "../../lib/config.ts";
import tierwall from "../../tierwall.config.ts";

function configWith(tiers: TierwallConfigInput["tiers"]): () => unknown {
  return () =>
    defineTierwallConfig({ site: { name: "X", url: "https://x.test" }, tiers });
}

const free = { id: "free", name: "Free" };

describe("tier prices in the config", () => {
  it("accepts a paid tier with a monthly price alone, and lowercases the currency", () => {
    const config = configWith([
      free,
      { id: "gold", name: "Gold", prices: { currency: "EUR", monthly: 700 } },
    ])() as { tiers: { prices?: { currency: string } }[] };
    expect(config.tiers[1]?.prices).toEqual({ currency: "eur", monthly: 700 });
  });

  it("requires prices on every paid tier, naming it", () => {
    expect(configWith([free, { id: "gold", name: "Gold" }])).toThrowError(
      /tiers\.1\.prices: "gold" is a paid tier: add prices/,
    );
  });

  it("refuses prices on the free tier", () => {
    const priced = { ...free, prices: { currency: "usd", monthly: 100 } };
    expect(
      configWith([
        priced,
        { id: "gold", name: "Gold", prices: { currency: "usd", yearly: 1 } },
      ]),
    ).toThrowError(/tiers\.0\.prices: "free" is the free tier: remove its prices/);
  });

  it("wants a 3-letter currency code", () => {
    const gold = {
      id: "gold",
      name: "Gold",
      prices: { currency: "dollars", monthly: 500 },
    };
    expect(configWith([free, gold])).toThrowError(
      /tiers\.1\.prices\.currency: currency must be a 3-letter ISO code/,
    );
  });

  it("wants a monthly or a yearly amount, each a positive whole number", () => {
    const none = { id: "gold", name: "Gold", prices: { currency: "usd" } };
    expect(configWith([free, none])).toThrowError(
      /tiers\.1\.prices: give a monthly or a yearly amount/,
    );

    const fraction = {
      id: "gold",
      name: "Gold",
      prices: { currency: "usd", monthly: 4.99 },
    };
    expect(configWith([free, fraction])).toThrowError(
      /tiers\.1\.prices\.monthly: monthly must be a whole amount/,
    );
    const zero = { id: "gold", name: "Gold", prices: { currency: "usd", yearly: 0 } };
    expect(configWith([free, zero])).toThrowError(/tiers\.1\.prices\.yearly/);
  });

  it("prices the example publication as the emulator's catalog does", () => {
    const prices = Object.fromEntries(
      tierwall.tiers.map((tier) => [tier.id, tier.prices]),
    );
    expect(prices).toEqual({
      free: undefined,
      spark: { currency: "usd", monthly: 500, yearly: 5000 },
      core: { currency: "usd", monthly: 1200, yearly: 12000 },
      lightning: { currency: "usd", monthly: 2500, yearly: 25000 },
    });
  });
});
