import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import tierwall from "../../tierwall.config.ts";

/**
 * The yearly hint of the pricing table, run from the very script the browser
 * loads (theme/assets/pricing.js): its component is taken from the Alpine
 * registration the script makes, with nothing but that registration stubbed.
 */

interface Price {
  interval: string;
  amount: number;
}

type Tier = { prices: Price[] };

interface PricingTable {
  tiers: Tier[];
  readonly yearlySaving: string;
}

function loadPricingTable(): () => PricingTable {
  const source = readFileSync(
    new URL("../../theme/assets/pricing.js", import.meta.url),
    "utf8",
  );
  let onInit: (() => void) | undefined;
  let factory: (() => PricingTable) | undefined;
  const window = {
    location: { search: "" },
    Alpine: { data: (_name: string, make: () => PricingTable) => (factory = make) },
  };
  const document = {
    addEventListener: (_event: string, run: () => void) => (onInit = run),
  };
  runInNewContext(source, { window, document, URLSearchParams });
  onInit?.();
  if (!factory) throw new Error("pricing.js registered no component");
  return factory;
}

const makeTable = loadPricingTable();

function savingFor(tiers: Tier[]): string {
  const table = makeTable();
  table.tiers = tiers;
  return table.yearlySaving;
}

function tier(monthly: number, yearly: number): Tier {
  return {
    prices: [
      { interval: "month", amount: monthly },
      { interval: "year", amount: yearly },
    ],
  };
}

describe("the yearly saving the pricing table offers", () => {
  it("rounds 16.7% to 17%, not down to 16%", () => {
    expect(savingFor([tier(1200, 12000)])).toBe("save 17%");
  });

  it("says what the configured Stripe prices save", () => {
    const paid = tierwall.tiers.flatMap((t) => (t.prices ? [t.prices] : []));
    const tiers = paid.map((p) => tier(p.monthly ?? 0, p.yearly ?? 0));
    const least = Math.min(
      ...paid.map((p) => 1 - (p.yearly ?? 0) / ((p.monthly ?? 0) * 12)),
    );

    expect(savingFor(tiers)).toBe(`save ${Math.round(least * 100)}%`);
    expect(savingFor(tiers)).toBe("save 17%");
  });

  it("rounds to the nearest whole percent either way", () => {
    expect(savingFor([tier(1000, 10_080)])).toBe("save 16%"); // 16.0%
    expect(savingFor([tier(1000, 10_020)])).toBe("save 17%"); // 16.5%
    expect(savingFor([tier(1000, 10_140)])).toBe("save 16%"); // 15.5% → 16
    expect(savingFor([tier(1000, 10_200)])).toBe("save 15%"); // 15.0%
  });

  it("promises only what every tier saves: the smallest saving", () => {
    expect(savingFor([tier(1000, 8000), tier(500, 5000)])).toBe("save 17%");
  });

  it("says nothing when a tier saves less than 5%, or no tier has both prices", () => {
    expect(savingFor([tier(1000, 11_500), tier(1000, 8000)])).toBe("");
    expect(savingFor([{ prices: [{ interval: "month", amount: 1000 }] }])).toBe("");
    expect(savingFor([])).toBe("");
  });

  it("leaves out a tier with a monthly price only", () => {
    const monthlyOnly = { prices: [{ interval: "month", amount: 900 }] };
    expect(savingFor([monthlyOnly, tier(1200, 12000)])).toBe("save 17%");
  });
});
