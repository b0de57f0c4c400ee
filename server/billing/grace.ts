import type { TierwallConfig } from "../../lib/config.ts";
import tierwall from "../../tierwall.config.ts";

/**
 * How many days a reader whose payment failed keeps their tier: `billing.
 * pastDueGraceDays` in tierwall.config.ts, which the environment may override
 * (a staging server or a test stack with a grace of its own):
 *
 *   TIERWALL_PAST_DUE_GRACE_DAYS=3   (a whole number of days; 0 for none)
 *
 * Read once, at start (server/plugins/00.settings.ts), where a mistyped value
 * stops the server.
 */

/** Stripe retries a failed payment for at most two months. */
const MAX_GRACE_DAYS = 60;

let graceDays: number | undefined;

export function pastDueGraceDays(): number {
  graceDays ??= readPastDueGraceDays();
  return graceDays;
}

export function readPastDueGraceDays(
  billing: TierwallConfig["billing"] = tierwall.billing,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const text = env.TIERWALL_PAST_DUE_GRACE_DAYS?.trim();
  if (!text) return billing.pastDueGraceDays;

  const days = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(days) || days > MAX_GRACE_DAYS) {
    throw new Error(
      `TIERWALL_PAST_DUE_GRACE_DAYS must be a whole number of days from 0 to ${MAX_GRACE_DAYS}, got "${text}".`,
    );
  }
  return days;
}
