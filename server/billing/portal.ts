import type Stripe from "stripe";
import { type Db, useDb } from "../db/database.ts";
import { logWarn } from "../log.ts";
import { readStripeCustomerId } from "./customers.ts";
import { isStripeNotFound } from "./failures.ts";
import { siteUrl } from "./site-url.ts";
import { useStripe } from "./stripe-client.ts";

/**
 * The Stripe Billing Portal, where readers change plan, cancel and update their
 * card. Whatever they do there comes back to us through the webhook.
 *
 * `npm run stripe:setup` creates a portal configuration for Tierwall (plans to
 * switch between, cancellation at period end) and marks it with
 * `PORTAL_CONFIGURATION_METADATA`. Sessions use it when it exists, else the
 * account's default configuration from Stripe's dashboard.
 */

export const PORTAL_CONFIGURATION_METADATA = { tierwall: "portal" } as const;

export type PortalOutcome = { kind: "redirect"; url: string } | { kind: "no-customer" };

/** The configuration's id, or null for Stripe's default; looked up once. */
let configurationLookup: Promise<string | null> | null = null;

export async function openBillingPortal(
  userId: string,
  db: Db = useDb(),
): Promise<PortalOutcome> {
  const customerId = readStripeCustomerId(db, userId);
  if (!customerId) return { kind: "no-customer" };
  return { kind: "redirect", url: await createPortalUrl(customerId) };
}

export async function createPortalUrl(
  customerId: string,
  stripe: Stripe = useStripe(),
): Promise<string> {
  const configuration = await tierwallPortalConfiguration(stripe);
  try {
    return await createSession(stripe, customerId, configuration);
  } catch (error) {
    if (!configuration || !isStripeNotFound(error)) throw error;

    // The configuration is gone from this account: look again next time, and
    // send the reader to the default portal rather than nowhere.
    logWarn(
      "billing",
      `portal configuration ${configuration} not found; using the default`,
    );
    configurationLookup = null;
    return createSession(stripe, customerId, null);
  }
}

/** Tierwall's own portal configuration, found by its metadata; cached once found. */
export function tierwallPortalConfiguration(stripe: Stripe): Promise<string | null> {
  configurationLookup ??= findPortalConfiguration(stripe).then(
    (found) => (found?.active ? found.id : null),
    (error: unknown) => {
      configurationLookup = null;
      throw error;
    },
  );
  return configurationLookup;
}

/** The configuration `npm run stripe:setup` made, active or not, if there is one. */
export async function findPortalConfiguration(
  stripe: Stripe,
): Promise<Stripe.BillingPortal.Configuration | null> {
  const configurations = await stripe.billingPortal.configurations
    .list({ limit: 100 })
    .autoPagingToArray({ limit: 1_000 });
  return configurations.find(isTierwallConfiguration) ?? null;
}

function isTierwallConfiguration(configuration: Stripe.BillingPortal.Configuration) {
  const marker = configuration.metadata?.tierwall;
  return marker === PORTAL_CONFIGURATION_METADATA.tierwall;
}

async function createSession(
  stripe: Stripe,
  customerId: string,
  configuration: string | null,
): Promise<string> {
  const session = await stripe.billingPortal.sessions.create({
    customer: customerId,
    return_url: siteUrl("/account/"),
    ...(configuration ? { configuration } : {}),
  });
  return session.url;
}
