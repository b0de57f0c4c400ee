import { expect } from "vitest";
import type { BurstReport } from "../../emulators/stripe/burst.ts";
import { parseForm, payOnCheckoutPage } from "./checkout.ts";
import { postJsonTo } from "./http.ts";
import type { Reader, Stack } from "./stack.ts";

/**
 * What billing tests do again and again against one stack: read pricing, pay
 * through Checkout, look at what the server stored and answers, sign and post
 * webhook payloads, and drive the Stripe emulator's test controls.
 */

export interface PricingBody {
  tiers: {
    id: string;
    name: string;
    prices: {
      id: string;
      interval: string;
      amount: number;
      currency: string;
      formatted: string;
    }[];
  }[];
}

export interface StoredRow {
  id: string;
  status: string;
  tier: string;
  customer_id: string;
  price_id: string | null;
  cancel_at: number | null;
  cancel_at_period_end: number;
}

export interface MeBody {
  user: {
    tier: string;
    subscription: {
      status: string;
      tier: string;
      interval: string | null;
      cancelAtPeriodEnd: boolean;
      currentPeriodEnd: string | null;
      cancelAt: string | null;
    } | null;
    notice: string | null;
  } | null;
}

export interface ReleasedDelivery {
  event_id: string;
  type: string;
  status: number | null;
}

export interface HeldDelivery {
  delivery: string;
  event_id: string;
  type: string;
  created: number;
}

export type Billing = ReturnType<typeof billingFor>;

export function billingFor(stack: Stack) {
  const pricing = async (): Promise<PricingBody> => {
    const response = await fetch(`${stack.baseUrl}/api/pricing`);
    expect(response.status).toBe(200);
    return (await response.json()) as PricingBody;
  };

  const priceOf = async (tierId: string, interval = "month"): Promise<string> => {
    const tier = (await pricing()).tiers.find((candidate) => candidate.id === tierId);
    const price = tier?.prices.find((candidate) => candidate.interval === interval);
    if (!price) throw new Error(`/api/pricing has no ${interval}ly ${tierId} price`);
    return price.id;
  };

  /** A POST as a script sends it: JSON in, JSON out. */
  const postJson = (path: string, body: Record<string, string>, cookie?: string) =>
    postJsonTo(stack.baseUrl, path, body, { cookie });

  const getAs = (path: string, cookie: string, json = false) =>
    fetch(`${stack.baseUrl}${path}`, {
      redirect: "manual",
      headers: { cookie, ...(json ? { accept: "application/json" } : {}) },
    });

  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = stack.openDb();
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };

  const userOf = (reader: Reader): { id: string; stripe_customer_id: string | null } => {
    const [user] = query<{ id: string; stripe_customer_id: string | null }>(
      "SELECT id, stripe_customer_id FROM user WHERE email = ?",
      reader.email,
    );
    if (!user) throw new Error(`No user ${reader.email}`);
    return user;
  };

  const customerOf = (reader: Reader): string => {
    const customerId = userOf(reader).stripe_customer_id;
    if (!customerId) throw new Error(`${reader.email} has no Stripe customer`);
    return customerId;
  };

  const storedSubscriptions = (reader: Reader): StoredRow[] =>
    query<StoredRow>(
      `SELECT s.id, s.status, s.tier, s.customer_id, s.price_id, s.cancel_at,
              s.cancel_at_period_end
         FROM subscription s JOIN user u ON u.id = s.user_id
        WHERE u.email = ? ORDER BY s.id`,
      reader.email,
    );

  const recordedEvents = (): { id: string; type: string }[] =>
    query("SELECT id, type FROM stripe_event ORDER BY id");

  const me = async (reader: Reader): Promise<NonNullable<MeBody["user"]>> => {
    const response = await getAs("/api/me", reader.cookie);
    expect(response.status).toBe(200);
    const body = (await response.json()) as MeBody;
    if (!body.user) throw new Error(`${reader.email} is not signed in`);
    return body.user;
  };

  const tierOnMe = async (reader: Reader): Promise<string> => (await me(reader)).tier;

  /** Starts Checkout as a form post and pays on the emulator's hosted page. */
  const subscribe = async (reader: Reader, priceId: string): Promise<string> => {
    const checkout = await stack.post(
      "/api/billing/checkout",
      { price: priceId },
      reader.cookie,
    );
    expect(checkout.status).toBe(303);
    const checkoutUrl = checkout.headers.get("location") ?? "";
    expect(checkoutUrl.startsWith(stack.stripeUrl)).toBe(true);

    const paid = await payOnCheckoutPage(checkoutUrl);
    expect(paid.status).toBe(303);
    return paid.headers.get("location") ?? "";
  };

  /**
   * Starts Checkout as a form post and pays on the emulator's hosted page with
   * a promotion code typed in; answers the page's response unfollowed.
   */
  const subscribeWithCode = async (
    reader: Reader,
    priceId: string,
    code: string,
  ): Promise<Response> => {
    const checkout = await stack.post(
      "/api/billing/checkout",
      { price: priceId },
      reader.cookie,
    );
    expect(checkout.status).toBe(303);
    return payWithPromotionCode(checkout.headers.get("location") ?? "", code);
  };

  /** The reader's one subscription as Stripe holds it. */
  const stripeSubscription = async (reader: Reader) => {
    const list = await stack.stripe.subscriptions.list({
      customer: customerOf(reader),
      status: "all",
      limit: 10,
    });
    const [subscription] = list.data;
    if (!subscription) throw new Error(`${reader.email} has no subscription in Stripe`);
    return subscription;
  };

  /**
   * Opens the Billing Portal from the site, as the account page's button does,
   * and submits one of the emulator portal page's forms.
   */
  const inPortal = async (
    reader: Reader,
    action: "switch" | "cancel" | "resume",
    fields: Record<string, string> = {},
  ): Promise<void> => {
    const opened = await stack.post("/api/billing/portal", {}, reader.cookie);
    expect(opened.status).toBe(303);
    const portalUrl = opened.headers.get("location") ?? "";
    const { id } = await stripeSubscription(reader);
    const done = await fetch(`${portalUrl}/subscriptions/${id}/${action}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
    expect(done.status).toBe(303);
  };

  const postWebhook = (payload: string, signature?: string) =>
    fetch(`${stack.baseUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(signature ? { "stripe-signature": signature } : {}),
      },
      body: payload,
    });

  /** A `Stripe-Signature` header, by default with the server's secret and the time now. */
  const sign = (
    payload: string,
    options: { secret?: string; timestamp?: number } = {},
  ): string =>
    stack.stripe.webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? stack.webhookSecret,
      timestamp: options.timestamp,
    });

  /** A POST to one of the Stripe emulator's `/_emulator/` controls, answering its JSON. */
  const control = async <T = unknown>(path: string, body: object = {}): Promise<T> => {
    const response = await fetch(`${stack.stripeUrl}/_emulator/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`/_emulator/${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  };

  const emulator = {
    control,
    hold: () => control("webhooks/settings", { hold: true }),
    stopHolding: () => control("webhooks/settings", { hold: false }),
    held: async (): Promise<HeldDelivery[]> => {
      const response = await fetch(`${stack.stripeUrl}/_emulator/webhooks/held`);
      return (await response.json()) as HeldDelivery[];
    },
    release: async (
      options: { order?: "created" | "reverse" | "shuffle"; event_ids?: string[] } = {},
    ): Promise<ReleasedDelivery[]> =>
      (await control<{ released: ReleasedDelivery[] }>("webhooks/release", options))
        .released,
    drop: async (eventIds?: string[]): Promise<number> =>
      (
        await control<{ dropped: number }>(
          "webhooks/drop",
          eventIds ? { event_ids: eventIds } : {},
        )
      ).dropped,
    redeliver: async (eventId: string) =>
      (
        await control<{ deliveries: { status: number | null; error?: string }[] }>(
          `events/${eventId}/redeliver`,
        )
      ).deliveries,
    advanceDays: (days: number) => control<{ now: number }>("clock/advance", { days }),
    now: async (): Promise<number> => {
      const response = await fetch(`${stack.stripeUrl}/_emulator/clock`);
      return ((await response.json()) as { now: number }).now;
    },
    /** The customer's next subscription reads answer an earlier version; see control.ts. */
    staleReads: (
      customerId: string,
      body: { reads?: number; versions_back?: number } = {},
    ) => control(`customers/${customerId}/stale_reads`, body),
    failPayment: (subscriptionId: string) =>
      control(`subscriptions/${subscriptionId}/payment_failed`),
    setCard: (customerId: string, number: string) =>
      control(`customers/${customerId}/card`, { number }),
    outage: (api: boolean) => control("outage", { api }),
    /** Records `count` events and sends them many at once; see control.ts. */
    burst: (body: {
      count: number;
      mix?: Record<string, number>;
      concurrency?: number;
      duplicates?: number;
      customers?: string[];
    }) => control<BurstReport>("webhooks/burst", body),
  };

  return {
    pricing,
    priceOf,
    postJson,
    getAs,
    query,
    userOf,
    customerOf,
    storedSubscriptions,
    recordedEvents,
    me,
    tierOnMe,
    subscribe,
    subscribeWithCode,
    stripeSubscription,
    inPortal,
    postWebhook,
    sign,
    emulator,
  };
}

/** Pays on the emulator's hosted Checkout page with the test card and a promotion code. */
export async function payWithPromotionCode(
  checkoutUrl: string,
  code: string,
): Promise<Response> {
  const form = parseForm(await (await fetch(checkoutUrl)).text(), checkoutUrl);
  const fields = {
    ...form.fields,
    card_number: "4242 4242 4242 4242",
    card_expiry: "12 / 34",
    card_cvc: "123",
    promotion_code: code,
  };
  return fetch(form.action, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}
