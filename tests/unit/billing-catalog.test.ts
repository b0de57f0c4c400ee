import { describe, expect, it } from "vitest";
import { buildCatalog, describePrice } from "../../server/billing/catalog.ts";
import tierwall from "../../tierwall.config.ts";
import { price, product } from "./billing-fixtures.ts";

const { tiers } = tierwall;
const spark = product("prod_spark", "spark");
const core = product("prod_core", "core");
const lightning = product("prod_lightning", "lightning");
const stickers = product("prod_stickers", null);

describe("the pricing catalog", () => {
  it("lists paid tiers lowest first, monthly before yearly, from the config's names", () => {
    const catalog = buildCatalog(
      [
        price("price_lightning_year", lightning, {
          interval: "year",
          unit_amount: 30_000,
        }),
        price("price_core_month", core, { unit_amount: 1_500 }),
        price("price_spark_year", spark, { interval: "year", unit_amount: 8_000 }),
        price("price_spark_month", spark, { unit_amount: 800 }),
      ],
      tiers,
    );

    expect(catalog.tiers.map((tier) => tier.id)).toEqual(["spark", "core", "lightning"]);
    expect(catalog.tiers[0]).toEqual({
      id: "spark",
      name: "Spark Stacker",
      description: "Every deep dive, plus the monthly reading list.",
      prices: [
        {
          id: "price_spark_month",
          interval: "month",
          amount: 800,
          currency: "usd",
          formatted: "$8.00",
        },
        {
          id: "price_spark_year",
          interval: "year",
          amount: 8_000,
          currency: "usd",
          formatted: "$80.00",
        },
      ],
    });
    expect(catalog.priceTiers.get("price_core_month")).toBe("core");
  });

  it("leaves out prices of products without a paid tier", () => {
    const catalog = buildCatalog(
      [
        price("price_stickers", stickers),
        price("price_free", product("prod_free", "free")),
        price("price_gold", product("prod_gold", "gold")),
        price("price_spark", spark),
      ],
      tiers,
    );

    expect(catalog.tiers.map((tier) => tier.id)).toEqual(["spark"]);
    expect([...catalog.priceTiers.keys()]).toEqual(["price_spark"]);
    expect(catalog.productTiers.get("prod_stickers")).toBeNull();
    expect(catalog.productTiers.get("prod_free")).toBeNull();
  });

  it("leaves out prices of archived products", () => {
    const archived = product("prod_old_core", "core", { active: false });
    const catalog = buildCatalog([price("price_old", archived)], tiers);
    expect(catalog.tiers).toEqual([]);
    expect(catalog.productTiers.get("prod_old_core")).toBe("core");
  });

  it("formats amounts by the currency's minor unit", () => {
    const yen = describePrice(
      price("price_jpy", core, { currency: "jpy", unit_amount: 1_200 }),
    );
    expect(yen?.formatted).toBe("¥1,200");
  });

  it("cannot describe prices billed by usage, every N months, or weekly", () => {
    expect(describePrice(price("p1", core, { intervalCount: 3 }))).toBeNull();
    expect(describePrice(price("p2", core, { interval: "week" }))).toBeNull();
    expect(describePrice(price("p3", core, { unit_amount: null }))).toBeNull();
    expect(describePrice(price("p4", core, { active: false }))).toBeNull();
    expect(
      describePrice(price("p5", core, { type: "one_time", recurring: null })),
    ).toBeNull();
  });
});
