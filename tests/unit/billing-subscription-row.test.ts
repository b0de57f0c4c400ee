import { describe, expect, it } from "vitest";
import {
  mapSubscription,
  nextPastDueSince,
} from "../../server/billing/subscription-row.ts";
import tierwall from "../../tierwall.config.ts";
import { item, subscription, tierOfProduct } from "./billing-fixtures.ts";

const { tiers } = tierwall;

describe("a Stripe subscription as a stored row", () => {
  it("takes its tier, price, interval and period end from the tier item", () => {
    const row = mapSubscription(
      subscription(
        [
          item("price_core_year", "prod_core", {
            interval: "year",
            currentPeriodEnd: 1_731_000_000,
          }),
        ],
        {
          id: "sub_core",
          customer: "cus_42",
          created: 1_699_000_000,
        },
      ),
      tierOfProduct,
      tiers,
    );

    expect(row).toEqual({
      id: "sub_core",
      customerId: "cus_42",
      status: "active",
      tier: "core",
      priceId: "price_core_year",
      interval: "year",
      currentPeriodEnd: 1_731_000_000,
      cancelAt: null,
      cancelAtPeriodEnd: false,
      stripeCreated: 1_699_000_000,
    });
  });

  it("keeps the highest tier among several items, in any order", () => {
    const items = [
      item("price_spark", "prod_spark"),
      item("price_lightning", "prod_lightning", { currentPeriodEnd: 1_705_000_000 }),
      item("price_core", "prod_core"),
    ];

    for (const ordered of [items, [...items].reverse()]) {
      const row = mapSubscription(subscription(ordered), tierOfProduct, tiers);
      expect(row?.tier).toBe("lightning");
      expect(row?.priceId).toBe("price_lightning");
      expect(row?.currentPeriodEnd).toBe(1_705_000_000);
    }
  });

  it("ignores items of products that grant no tier", () => {
    const row = mapSubscription(
      subscription([
        item("price_stickers", "prod_stickers"),
        item("price_spark", "prod_spark"),
      ]),
      tierOfProduct,
      tiers,
    );
    expect(row?.tier).toBe("spark");
    expect(row?.priceId).toBe("price_spark");
  });

  it("stores nothing for a subscription with no tier item", () => {
    const sub = subscription([item("price_stickers", "prod_stickers")]);
    expect(mapSubscription(sub, tierOfProduct, tiers)).toBeNull();
  });

  it("never maps a product to the free tier or an unknown tier", () => {
    const lookup = (productId: string) =>
      productId === "prod_free" ? "free" : productId === "prod_gold" ? "gold" : null;
    const sub = subscription([
      item("price_free", "prod_free"),
      item("price_gold", "prod_gold"),
    ]);
    expect(mapSubscription(sub, lookup, tiers)).toBeNull();
  });

  it("reads an expanded product as well as a product id", () => {
    const expanded = item("price_core", "prod_core");
    (expanded.price as { product: unknown }).product = {
      id: "prod_core",
      object: "product",
    };
    expect(mapSubscription(subscription([expanded]), tierOfProduct, tiers)?.tier).toBe(
      "core",
    );
  });

  it("carries a scheduled cancellation", () => {
    const atPeriodEnd = mapSubscription(
      subscription(
        [item("price_core", "prod_core", { currentPeriodEnd: 1_702_000_000 })],
        {
          cancel_at_period_end: true,
          cancel_at: null,
        },
      ),
      tierOfProduct,
      tiers,
    );
    expect(atPeriodEnd?.cancelAtPeriodEnd).toBe(true);
    expect(atPeriodEnd?.cancelAt).toBe(1_702_000_000);

    const onDate = mapSubscription(
      subscription([item("price_core", "prod_core")], { cancel_at: 1_701_000_000 }),
      tierOfProduct,
      tiers,
    );
    expect(onDate?.cancelAt).toBe(1_701_000_000);
    expect(onDate?.cancelAtPeriodEnd).toBe(false);
  });

  it("keeps Stripe's status as it is", () => {
    for (const status of ["trialing", "past_due", "canceled", "incomplete"] as const) {
      const row = mapSubscription(
        subscription([item("price_core", "prod_core")], { status }),
        tierOfProduct,
        tiers,
      );
      expect(row?.status).toBe(status);
    }
  });
});

describe("when a reader fell behind on payment", () => {
  const now = 1_800_000_000;
  const owed = now - 2 * 86_400;

  it("counts from the owed invoice's creation in Stripe, however late the sync", () => {
    const row = { status: "past_due", latestInvoiceCreated: owed };
    expect(nextPastDueSince(undefined, row, now)).toBe(owed);
    expect(nextPastDueSince({ status: "active", pastDueSince: null }, row, now)).toBe(
      owed,
    );
  });

  it("counts from the sync when Stripe's date is not at hand", () => {
    expect(nextPastDueSince(undefined, { status: "past_due" }, now)).toBe(now);
  });

  it("keeps the earliest moment while it stays past due", () => {
    const previous = { status: "past_due", pastDueSince: now - 3 * 86_400 };
    const laterInvoice = { status: "past_due", latestInvoiceCreated: now - 86_400 };
    expect(nextPastDueSince(previous, laterInvoice, now)).toBe(now - 3 * 86_400);
    const seenLate = { status: "past_due", pastDueSince: now };
    expect(
      nextPastDueSince(seenLate, { status: "past_due", latestInvoiceCreated: owed }, now),
    ).toBe(owed);
  });

  it("clears it once the subscription leaves past due", () => {
    const previous = { status: "past_due", pastDueSince: now - 86_400 };
    expect(nextPastDueSince(previous, { status: "active" }, now)).toBeNull();
    expect(nextPastDueSince(previous, { status: "canceled" }, now)).toBeNull();
  });
});
