import type { TierwallConfig } from "../../lib/config.ts";
import tierwall from "../../tierwall.config.ts";

/**
 * What every Checkout offers besides the price: a free trial and a field for
 * promotion codes. They come from `billing` in tierwall.config.ts; the
 * environment may override them, so that a staging server or a test stack can
 * run a trial or a promotion without a different config file:
 *
 *   TIERWALL_TRIAL_DAYS=14              (a whole number of days; 0 for none)
 *   TIERWALL_ALLOW_PROMOTION_CODES=true (true or false)
 */

export interface CheckoutOptions {
  trialDays: number;
  allowPromotionCodes: boolean;
}

export function readCheckoutOptions(
  billing: TierwallConfig["billing"] = tierwall.billing,
  env: NodeJS.ProcessEnv = process.env,
): CheckoutOptions {
  return {
    trialDays: readTrialDays(env.TIERWALL_TRIAL_DAYS) ?? billing.trialDays,
    allowPromotionCodes:
      readFlag(env.TIERWALL_ALLOW_PROMOTION_CODES) ?? billing.allowPromotionCodes,
  };
}

/** Trials in Stripe Checkout last at most two years. */
const MAX_TRIAL_DAYS = 730;

function readTrialDays(value: string | undefined): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  const days = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (days > MAX_TRIAL_DAYS || Number.isNaN(days)) {
    throw new Error(
      `TIERWALL_TRIAL_DAYS must be a whole number of days from 0 to ${MAX_TRIAL_DAYS}, got "${text}".`,
    );
  }
  return days;
}

function readFlag(value: string | undefined): boolean | undefined {
  const text = value?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new Error(
    `TIERWALL_ALLOW_PROMOTION_CODES must be true or false, got "${value?.trim()}".`,
  );
}
