import { describe, expect, it } from "vitest";
import {
  isLiveStatus,
  resolveEffectiveTier,
  type SubscriptionAccess,
  subscriptionAccess,
} from "../../lib/access.ts";
import { defineTierwallConfig } from "../../lib/config.ts";
import { canRead, higherTier, tierRank } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";

const { tiers } = tierwall;
const now = 1_800_000_000;
const day = 86_400;

function sub(overrides: Partial<SubscriptionAccess>): SubscriptionAccess {
  return {
    tier: "core",
    status: "active",
    cancelAt: null,
    pastDueSince: null,
    ...overrides,
  };
}

describe("tier ordering", () => {
  it("ranks the example tiers lowest first", () => {
    expect(tiers.map((tier) => tier.id)).toEqual(["free", "spark", "core", "lightning"]);
    expect(tierRank(tiers, "free")).toBeLessThan(tierRank(tiers, "spark"));
    expect(tierRank(tiers, "core")).toBeLessThan(tierRank(tiers, "lightning"));
    expect(tierRank(tiers, "gold")).toBe(-1);
  });

  it("lets a reader read their own tier and every tier below it", () => {
    expect(canRead(tiers, "core", "free")).toBe(true);
    expect(canRead(tiers, "core", "spark")).toBe(true);
    expect(canRead(tiers, "core", "core")).toBe(true);
    expect(canRead(tiers, "core", "lightning")).toBe(false);
    expect(canRead(tiers, "free", "spark")).toBe(false);
  });

  it("never grants a post of an unknown tier", () => {
    expect(canRead(tiers, "lightning", "platinum")).toBe(false);
  });

  it("never lets an unknown tier outrank a known one", () => {
    expect(higherTier(tiers, "spark", "platinum")).toBe("spark");
    expect(higherTier(tiers, "spark", "core")).toBe("core");
  });
});

describe("access by Stripe status", () => {
  it.each(["active", "trialing"])("%s grants access", (status) => {
    expect(subscriptionAccess(sub({ status }), now, 7)).toBe("active");
  });

  it.each(["incomplete", "incomplete_expired", "unpaid", "canceled", "paused"])(
    "%s grants nothing",
    (status) => {
      expect(subscriptionAccess(sub({ status }), now, 7)).toBe("none");
    },
  );

  it("keeps a scheduled cancellation's access until it takes effect", () => {
    expect(subscriptionAccess(sub({ cancelAt: now + day }), now, 7)).toBe("active");
    expect(subscriptionAccess(sub({ cancelAt: now - 1 }), now, 7)).toBe("none");
  });

  it("gives past_due the grace period, then nothing", () => {
    const pastDue = sub({ status: "past_due", pastDueSince: now - 3 * day });
    expect(subscriptionAccess(pastDue, now, 7)).toBe("grace");
    expect(subscriptionAccess(pastDue, now, 2)).toBe("none");
  });
});

describe("resolveEffectiveTier", () => {
  it("is the free tier without subscriptions", () => {
    expect(resolveEffectiveTier(tiers, [], now, 7)).toBe("free");
  });

  it("is the highest tier among subscriptions that grant access", () => {
    const subs = [
      sub({ tier: "spark" }),
      sub({ tier: "lightning", status: "canceled" }),
      sub({ tier: "core", status: "trialing" }),
    ];
    expect(resolveEffectiveTier(tiers, subs, now, 7)).toBe("core");
  });

  it("ignores subscriptions to tiers the config does not know", () => {
    expect(resolveEffectiveTier(tiers, [sub({ tier: "platinum" })], now, 7)).toBe("free");
  });

  it("counts a complimentary grant until its end date", () => {
    const comp = { tier: "lightning", until: now + day };
    expect(resolveEffectiveTier(tiers, [sub({ tier: "spark" })], now, 7, comp)).toBe(
      "lightning",
    );
    const expired = { tier: "lightning", until: now - 1 };
    expect(resolveEffectiveTier(tiers, [], now, 7, expired)).toBe("free");
  });

  it("counts as live for a second checkout what the portal can bring back, not an incomplete first payment", () => {
    for (const status of ["active", "trialing", "past_due", "unpaid", "paused"]) {
      expect({ status, live: isLiveStatus(status) }).toEqual({ status, live: true });
    }
    for (const status of ["incomplete", "incomplete_expired", "canceled"]) {
      expect({ status, live: isLiveStatus(status) }).toEqual({ status, live: false });
    }
  });
});

describe("config validation", () => {
  it("names the field that is wrong", () => {
    expect(() =>
      defineTierwallConfig({
        site: { name: "X", url: "not a url" },
        tiers: [
          { id: "free", name: "Free" },
          { id: "free", name: "Again" },
        ],
      }),
    ).toThrowError(/site\.url[\s\S]*tier ids must be unique/);
  });

  it("rejects tier ids that would not make a folder name", () => {
    expect(() =>
      defineTierwallConfig({
        site: { name: "X", url: "https://example.com" },
        tiers: [
          { id: "free", name: "Free" },
          { id: "../gold", name: "Gold" },
        ],
      }),
    ).toThrowError(/tiers\.1\.id/);
  });
});
