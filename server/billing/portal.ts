import type Stripe from "stripe";
import { type Db, useDb } from "../db/database.ts";
import { readStripeCustomerId } from "./customers.ts";
import { siteUrl } from "./site-url.ts";
import { useStripe } from "./stripe-client.ts";

/**
 * The Stripe Billing Portal, where readers change plan, cancel and update their
 * card. Whatever they do there comes back to us through the webhook.
 */

export type PortalOutcome = { kind: "redirect"; url: string } | { kind: "no-customer" };

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
  const session = await stripe.billingPortal.sessions.create({
    customer: customerId,
    return_url: siteUrl("/account/"),
  });
  return session.url;
}
