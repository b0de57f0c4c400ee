import { describe, expect, it } from "vitest";
import { formatAmount } from "../../lib/money.ts";

describe("formatAmount", () => {
  it("formats US dollars from cents", () => {
    expect(formatAmount(500, "usd")).toBe("$5.00");
    expect(formatAmount(12_000, "usd")).toBe("$120.00");
  });

  it("formats euros from cents in a European locale", () => {
    expect(formatAmount(1250, "eur", "de-DE")).toBe("12,50\u00a0€");
  });

  it("formats yen, which has no minor unit, without dividing", () => {
    expect(formatAmount(1500, "jpy", "ja-JP")).toBe("￥1,500");
    expect(formatAmount(1500, "jpy")).toBe("¥1,500");
  });

  it("accepts Stripe's lowercase currency codes", () => {
    expect(formatAmount(99, "EUR", "en-IE")).toBe(formatAmount(99, "eur", "en-IE"));
  });
});
