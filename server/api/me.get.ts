import { defineEventHandler, setResponseHeader } from "h3";
import { tierName } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { readEntitlement } from "../billing/entitlements.ts";
import { useDb } from "../db/database.ts";

/**
 * The signed-in reader as the theme's account menu and account page show them.
 * The shape is a contract with theme/: change both together.
 */
export default defineEventHandler((event) => {
  setResponseHeader(event, "cache-control", "private, no-store");

  const reader = event.context.user;
  if (!reader) return { user: null };

  const { tier, subscription, complimentary, notice } = readEntitlement(
    useDb(),
    reader.id,
  );
  return {
    user: {
      id: reader.id,
      email: reader.email,
      emailVerified: reader.emailVerified,
      tier,
      tierName: tierName(tierwall.tiers, tier),
      subscription: subscription && {
        status: subscription.status,
        tier: subscription.tier,
        interval: subscription.interval,
        cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
        currentPeriodEnd: isoDate(subscription.currentPeriodEnd),
        cancelAt: isoDate(subscription.cancelAt),
      },
      complimentary: complimentary && {
        tier: complimentary.tier,
        tierName: tierName(tierwall.tiers, complimentary.tier),
        until: isoDate(complimentary.until),
      },
      notice,
    },
  };
});

function isoDate(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString();
}
