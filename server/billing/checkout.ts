import Stripe from "stripe";
import { isLiveStatus } from "../../lib/access.ts";
import { tierName as tierNameOf, tierRank } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { type Db, useDb } from "../db/database.ts";
import { logWarn } from "../log.ts";
import { readCheckoutOptions } from "./checkout-options.ts";
import { readActiveComplimentary } from "./complimentary.ts";
import { ensureStripeCustomer, readStripeCustomerId } from "./customers.ts";
import { isStripeNotFound, isStripeUnreachable } from "./failures.ts";
import { createPortalUrl } from "./portal.ts";
import { findCheckoutPrice } from "./pricing.ts";
import { KeyedQueue } from "./queue.ts";
import type { BillingReader } from "./reader.ts";
import { siteUrl } from "./site-url.ts";
import { useStripe } from "./stripe-client.ts";
import { syncCustomerSubscriptions } from "./sync.ts";

/**
 * Stripe Checkout: starting it for a chosen price, and the reader's return from
 * it. The return syncs at once so the reader can read straight away; the webhook
 * would arrive at the same rows a moment later.
 */

export type CheckoutStart =
  | { kind: "redirect"; url: string }
  | { kind: "unknown-price" }
  | { kind: "already-subscribed"; portalUrl: string }
  /** An operator's complimentary grant already gives this tier or a higher one. */
  | { kind: "covered"; tierName: string; until: number | null }
  | { kind: "pricing-unavailable" };

export type CheckoutReturn =
  | { kind: "synced" }
  | { kind: "not-found" }
  | { kind: "not-yours" }
  | { kind: "incomplete" }
  /**
   * Stripe could not be asked (an outage): the reader may well have paid, and
   * the webhook, which Stripe retries, will store the subscription later.
   */
  | { kind: "unconfirmed" };

export async function startCheckout(
  reader: BillingReader,
  priceId: string,
  db: Db = useDb(),
): Promise<CheckoutStart> {
  const price = await findCheckoutPrice(priceId);
  if (price.kind === "unavailable") return { kind: "pricing-unavailable" };
  if (price.kind === "not-found") return { kind: "unknown-price" };

  const grant = readActiveComplimentary(db, reader.id, Math.floor(Date.now() / 1000));
  if (grant && !tierOutranks(tierwall.tiers, price.tierId, grant.tier)) {
    const tierName = tierNameOf(tierwall.tiers, grant.tier);
    return { kind: "covered", tierName, until: grant.until };
  }

  // IMPORTANT: the live-subscription check runs in the reader's queue, so a
  // payment completing in another tab is seen before a second Checkout opens.
  return readerQueue.run(
    reader.id,
    async (): Promise<CheckoutStart> => {
      const subscribed = await alreadySubscribed(reader.id, db);
      if (subscribed) return subscribed;

      const customerId = await ensureStripeCustomer(reader, db);
      // A page paid while it was being closed may have started a subscription.
      const paidMeanwhile = await expireOpenSessions(customerId);
      const late = paidMeanwhile ? await alreadySubscribed(reader.id, db) : null;
      if (late) return late;

      const session = await useStripe().checkout.sessions.create(
        checkoutParams(reader.id, customerId, priceId),
      );
      if (!session.url) throw new Error(`checkout session ${session.id} has no URL`);
      return { kind: "redirect", url: session.url };
    },
    db,
  );
}

/**
 * Where Subscribe sends a signed-out reader: to sign up, and then back to the
 * pricing table with the chosen price in `?plan=`, from where the table goes
 * on to Checkout for it. Only a price of a tier is carried; anything else, or
 * a catalog Stripe cannot give now, leaves the reader to choose again.
 */
export async function signUpPageFor(priceId: string | undefined): Promise<string> {
  const plain = `/signup/?${new URLSearchParams({ next: "/#pricing" })}`;
  if (!priceId) return plain;

  const price = await findCheckoutPrice(priceId);
  if (price.kind !== "found") return plain;
  const next = `/?${new URLSearchParams({ plan: priceId })}#pricing`;
  return `/signup/?${new URLSearchParams({ next })}`;
}

function tierOutranks(
  tiers: Parameters<typeof tierRank>[0],
  a: string,
  b: string,
): boolean {
  return tierRank(tiers, a) > tierRank(tiers, b);
}

/**
 * A reader's Checkouts start one at a time, in every server process, so only
 * the newest can be paid, and the reader's Stripe customer is created once:
 * the second Checkout finds the first one's customer linked.
 */
export const readerQueue = new KeyedQueue("checkout");

async function alreadySubscribed(userId: string, db: Db): Promise<CheckoutStart | null> {
  const live = await findLiveSubscription(userId, db);
  if (!live) return null;
  return {
    kind: "already-subscribed",
    portalUrl: await createPortalUrl(live.customerId),
  };
}

/**
 * Closes the reader's Checkout pages that are still open (another tab, an
 * earlier click), so paying twice cannot start two subscriptions. True when
 * a page could not be closed because it was paid or closed a moment ago.
 */
export async function expireOpenSessions(customerId: string): Promise<boolean> {
  const stripe = useStripe();
  const open = await stripe.checkout.sessions
    .list({ customer: customerId, status: "open", limit: 100 })
    .autoPagingToArray({ limit: 1_000 });
  let settledMeanwhile = false;
  for (const session of open) {
    try {
      await stripe.checkout.sessions.expire(session.id);
    } catch (error) {
      // Paid or expired a moment ago: no longer open, which is all we wanted.
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
      settledMeanwhile = true;
    }
  }
  return settledMeanwhile;
}

export function checkoutParams(
  userId: string,
  customerId: string,
  priceId: string,
): Stripe.Checkout.SessionCreateParams {
  const { trialDays, allowPromotionCodes } = readCheckoutOptions();
  return {
    mode: "subscription",
    customer: customerId,
    line_items: [{ price: priceId, quantity: 1 }],
    client_reference_id: userId,
    metadata: { user_id: userId },
    subscription_data: {
      metadata: { user_id: userId },
      ...(trialDays > 0 ? { trial_period_days: trialDays } : {}),
    },
    allow_promotion_codes: allowPromotionCodes,
    // Stripe fills in {CHECKOUT_SESSION_ID}; it must reach Stripe unencoded.
    success_url: siteUrl("/api/billing/success?session_id={CHECKOUT_SESSION_ID}"),
    cancel_url: siteUrl("/#pricing"),
  };
}

/**
 * The reader's live subscription, if any. The stored rows are brought up to
 * date first, so a webhook still in flight cannot let a second one through.
 */
async function findLiveSubscription(
  userId: string,
  db: Db,
): Promise<{ id: string; customerId: string } | null> {
  const customerId = readStripeCustomerId(db, userId);
  if (customerId) await syncCustomerSubscriptions(customerId, db);

  const rows = db
    .prepare("SELECT id, customer_id, status FROM subscription WHERE user_id = ?")
    .all(userId) as { id: string; customer_id: string; status: string }[];
  const live = rows.find((row) => isLiveStatus(row.status));
  return live ? { id: live.id, customerId: live.customer_id } : null;
}

/**
 * The reader is back from Checkout. The session must be theirs, and it grants
 * nothing until Stripe reports it complete and paid (or free, as in a trial).
 * When Stripe cannot be reached, the answer is "unconfirmed", not a failure:
 * the reader has just been on Stripe's page and may have paid.
 */
export async function completeCheckout(
  reader: BillingReader,
  sessionId: string,
  db: Db = useDb(),
): Promise<CheckoutReturn> {
  try {
    return await confirmCheckout(reader, sessionId, db);
  } catch (error) {
    if (!isStripeUnreachable(error)) throw error;
    const reason = error instanceof Error ? error.message.split("\n")[0] : "";
    logWarn(
      "billing",
      `checkout return not confirmed, Stripe is unreachable (${reason}); the webhook will store it`,
    );
    return { kind: "unconfirmed" };
  }
}

async function confirmCheckout(
  reader: BillingReader,
  sessionId: string,
  db: Db,
): Promise<CheckoutReturn> {
  const session = await retrieveSession(sessionId);
  if (!session) return { kind: "not-found" };

  const customerId = idOf(session.customer);
  if (!belongsToReader(session, customerId, reader, db)) return { kind: "not-yours" };
  if (!isPaidFor(session) || !customerId) return { kind: "incomplete" };

  await syncCustomerSubscriptions(customerId, db);
  return { kind: "synced" };
}

export function isPaidFor(session: Stripe.Checkout.Session): boolean {
  const paid =
    session.payment_status === "paid" || session.payment_status === "no_payment_required";
  return session.status === "complete" && paid;
}

/**
 * Checkout carries the reader's id in `client_reference_id`. A session without
 * one counts as the reader's only if it was made for the reader's own customer.
 */
function belongsToReader(
  session: Stripe.Checkout.Session,
  customerId: string | null,
  reader: BillingReader,
  db: Db,
): boolean {
  if (session.client_reference_id) return session.client_reference_id === reader.id;
  return customerId !== null && customerId === readStripeCustomerId(db, reader.id);
}

async function retrieveSession(
  sessionId: string,
): Promise<Stripe.Checkout.Session | null> {
  try {
    return await useStripe().checkout.sessions.retrieve(sessionId);
  } catch (error) {
    if (isStripeNotFound(error)) return null;
    throw error;
  }
}

function idOf(value: string | { id: string } | null): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : value.id;
}
