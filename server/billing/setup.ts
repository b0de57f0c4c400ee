import Stripe from "stripe";
import type { Tier, TierPrices, TierwallConfig } from "../../lib/config.ts";
import { formatAmount } from "../../lib/money.ts";
import { isPaidTier } from "../../lib/tiers.ts";
import { HANDLED_EVENT_TYPES } from "./events.ts";
import { findPortalConfiguration, PORTAL_CONFIGURATION_METADATA } from "./portal.ts";

/**
 * `npm run stripe:setup`: makes a Stripe account sell what tierwall.config.ts
 * lists. One product per paid tier (found again by `metadata.tier`), its prices
 * (found by lookup key `<tier>_monthly` / `<tier>_yearly`), the Billing Portal
 * configuration (found by its metadata) and the webhook endpoint (found by its
 * URL). Each is created when missing, updated when it differs and left alone
 * when it matches, so running it twice changes nothing the second time.
 *
 * Stripe prices cannot be edited: a price whose amount, currency or interval
 * changed is replaced by a new one that takes over its lookup key, and the old
 * one is archived. Readers already on it keep paying it until they switch.
 */

/** "other" marks an object the setup found but does not manage, left as it is. */
export type SetupOutcome = "created" | "updated" | "unchanged" | "other";

export interface SetupAction {
  object: "product" | "price" | "portal configuration" | "webhook endpoint";
  /** The tier, lookup key or URL the object is found by. */
  name: string;
  outcome: SetupOutcome;
  id: string;
  detail: string;
}

export interface SetupResult {
  actions: SetupAction[];
  /** Shown by Stripe only when the endpoint is created; null on later runs. */
  webhookSecret: string | null;
}

export interface WantedPrice {
  lookupKey: string;
  interval: "month" | "year";
  amount: number;
  currency: string;
}

interface TierProduct {
  tier: Tier;
  productId: string;
  priceIds: string[];
}

export async function runStripeSetup(
  stripe: Stripe,
  config: TierwallConfig,
  options: { webhookUrl: string },
): Promise<SetupResult> {
  const actions: SetupAction[] = [];
  const tierProducts: TierProduct[] = [];

  const products = await stripe.products.list({ limit: 100 }).autoPagingToArray({
    limit: 10_000,
  });
  const tiers = config.tiers.filter((tier) => isPaidTier(config.tiers, tier.id));
  const pricesByKey = await listPricesByLookupKey(
    stripe,
    tiers.flatMap((tier) => ["monthly", "yearly"].map((p) => lookupKey(tier.id, p))),
  );

  for (const tier of tiers) {
    const product = await ensureProduct(stripe, products, tier);
    actions.push(product.action);
    const prices = await ensureTierPrices(stripe, tier, product.id, pricesByKey);
    actions.push(...prices.actions);
    tierProducts.push({ tier, productId: product.id, priceIds: prices.activeIds });
  }

  const returnUrl = `${config.site.url.replace(/\/+$/, "")}/account/`;
  actions.push(
    await ensurePortalConfiguration(
      stripe,
      portalConfigurationParams(config.site.name, returnUrl, tierProducts),
    ),
  );

  const webhook = await ensureWebhookEndpoint(stripe, options.webhookUrl);
  actions.push(webhook.action);
  return { actions, webhookSecret: webhook.secret };
}

/** `core`, `monthly` → `core_monthly`. */
export function lookupKey(tierId: string, period: string): string {
  return `${tierId}_${period}`;
}

/** The prices a tier's config asks for, one per interval given. */
export function wantedPrices(tierId: string, prices: TierPrices): WantedPrice[] {
  const wanted: WantedPrice[] = [];
  const { currency } = prices;
  if (prices.monthly !== undefined) {
    const lookup = lookupKey(tierId, "monthly");
    wanted.push({
      lookupKey: lookup,
      interval: "month",
      amount: prices.monthly,
      currency,
    });
  }
  if (prices.yearly !== undefined) {
    const lookup = lookupKey(tierId, "yearly");
    wanted.push({ lookupKey: lookup, interval: "year", amount: prices.yearly, currency });
  }
  return wanted;
}

// --- Products ---------------------------------------------------------------

/** The tier's product: the active one carrying its `metadata.tier`, else any. */
export function findTierProduct(
  products: readonly Stripe.Product[],
  tierId: string,
): Stripe.Product | null {
  const ofTier = products.filter((product) => product.metadata?.tier === tierId);
  return ofTier.find((product) => product.active) ?? ofTier[0] ?? null;
}

/** What to change on an existing product so it shows the tier; null when nothing. */
export function productChanges(
  product: Stripe.Product,
  tier: Tier,
): Stripe.ProductUpdateParams | null {
  const changes: Stripe.ProductUpdateParams = {};
  if (product.name !== tier.name) changes.name = tier.name;
  if (tier.description && product.description !== tier.description) {
    changes.description = tier.description;
  }
  if (!product.active) changes.active = true;
  return Object.keys(changes).length > 0 ? changes : null;
}

async function ensureProduct(
  stripe: Stripe,
  products: readonly Stripe.Product[],
  tier: Tier,
): Promise<{ id: string; action: SetupAction }> {
  const action = (outcome: SetupOutcome, id: string, detail: string) => ({
    id,
    action: { object: "product" as const, name: tier.id, outcome, id, detail },
  });

  const existing = findTierProduct(products, tier.id);
  if (!existing) {
    const created = await stripe.products.create({
      name: tier.name,
      ...(tier.description ? { description: tier.description } : {}),
      metadata: { tier: tier.id },
    });
    return action("created", created.id, tier.name);
  }

  const changes = productChanges(existing, tier);
  if (!changes) return action("unchanged", existing.id, tier.name);
  await stripe.products.update(existing.id, changes);
  return action(
    "updated",
    existing.id,
    `${tier.name} (${Object.keys(changes).join(", ")})`,
  );
}

// --- Prices -----------------------------------------------------------------

/** Prices holding the given lookup keys, active or archived, by key. */
async function listPricesByLookupKey(
  stripe: Stripe,
  keys: readonly string[],
): Promise<Map<string, Stripe.Price>> {
  const found = new Map<string, Stripe.Price>();
  // Stripe takes at most ten lookup keys per request.
  for (let start = 0; start < keys.length; start += 10) {
    const lookup_keys = keys.slice(start, start + 10);
    const page = await stripe.prices
      .list({ lookup_keys, limit: 100 })
      .autoPagingToArray({ limit: 1_000 });
    for (const price of page) if (price.lookup_key) found.set(price.lookup_key, price);
  }
  return found;
}

/** Whether a price already is the one wanted, on the tier's product. */
export function priceMatches(
  price: Stripe.Price,
  wanted: WantedPrice,
  productId: string,
): boolean {
  const product = typeof price.product === "string" ? price.product : price.product.id;
  return (
    product === productId &&
    price.type === "recurring" &&
    price.currency === wanted.currency &&
    price.unit_amount === wanted.amount &&
    price.recurring?.interval === wanted.interval &&
    price.recurring?.interval_count === 1
  );
}

async function ensureTierPrices(
  stripe: Stripe,
  tier: Tier,
  productId: string,
  pricesByKey: ReadonlyMap<string, Stripe.Price>,
): Promise<{ actions: SetupAction[]; activeIds: string[] }> {
  const actions: SetupAction[] = [];
  const activeIds: string[] = [];
  const wanted = tier.prices ? wantedPrices(tier.id, tier.prices) : [];

  for (const price of wanted) {
    const existing = pricesByKey.get(price.lookupKey) ?? null;
    const action = await ensurePrice(stripe, tier, productId, price, existing);
    actions.push(action);
    activeIds.push(action.id);
  }

  const wantedKeys = new Set(wanted.map((price) => price.lookupKey));
  for (const period of ["monthly", "yearly"]) {
    const key = lookupKey(tier.id, period);
    const dropped = pricesByKey.get(key);
    if (wantedKeys.has(key) || !dropped?.active) continue;
    await stripe.prices.update(dropped.id, { active: false });
    actions.push(
      priceAction(key, "updated", dropped.id, "archived: no longer in the config"),
    );
  }
  actions.push(...(await findOtherPrices(stripe, tier, productId, activeIds)));
  return { actions, activeIds };
}

/**
 * Active recurring prices on a tier's product that the config does not list:
 * made by hand in the dashboard, say. Readers can buy them, and the pricing
 * table shows them, so the operator hears about them; they are left alone,
 * since someone may be paying them.
 */
async function findOtherPrices(
  stripe: Stripe,
  tier: Tier,
  productId: string,
  managedIds: readonly string[],
): Promise<SetupAction[]> {
  const prices = await stripe.prices
    .list({ product: productId, active: true, type: "recurring", limit: 100 })
    .autoPagingToArray({ limit: 1_000 });
  return prices
    .filter((price) => !managedIds.includes(price.id))
    .map((price) =>
      priceAction(
        price.lookup_key ?? `${tier.id} (no lookup key)`,
        "other",
        price.id,
        "active, but not in tierwall.config.ts: readers can buy it; archive it in Stripe if they should not",
      ),
    );
}

async function ensurePrice(
  stripe: Stripe,
  tier: Tier,
  productId: string,
  wanted: WantedPrice,
  existing: Stripe.Price | null,
): Promise<SetupAction> {
  const shown = describeWantedPrice(wanted);
  if (existing && priceMatches(existing, wanted, productId)) {
    if (existing.active)
      return priceAction(wanted.lookupKey, "unchanged", existing.id, shown);
    await stripe.prices.update(existing.id, { active: true });
    return priceAction(
      wanted.lookupKey,
      "updated",
      existing.id,
      `${shown} (reactivated)`,
    );
  }

  const created = await stripe.prices.create({
    product: productId,
    currency: wanted.currency,
    unit_amount: wanted.amount,
    recurring: { interval: wanted.interval },
    lookup_key: wanted.lookupKey,
    // The key moves from the price this one replaces, in the same request.
    transfer_lookup_key: existing !== null,
    nickname: wanted.interval === "month" ? "Monthly" : "Yearly",
    metadata: { tier: tier.id },
  });
  if (!existing) return priceAction(wanted.lookupKey, "created", created.id, shown);

  if (existing.active) await stripe.prices.update(existing.id, { active: false });
  const replaced = `${shown}, replacing ${existing.id} (${describePrice(existing)}), now archived`;
  return priceAction(wanted.lookupKey, "created", created.id, replaced);
}

function priceAction(
  key: string,
  outcome: SetupOutcome,
  id: string,
  detail: string,
): SetupAction {
  return { object: "price", name: key, outcome, id, detail };
}

function describeWantedPrice(price: WantedPrice): string {
  return `${formatAmount(price.amount, price.currency)} a ${price.interval}`;
}

function describePrice(price: Stripe.Price): string {
  const amount =
    price.unit_amount === null
      ? "no amount"
      : formatAmount(price.unit_amount, price.currency);
  return `${amount} a ${price.recurring?.interval ?? "one-time"}`;
}

// --- Billing Portal ---------------------------------------------------------

/**
 * The portal readers manage their subscription in: switching among the tiers'
 * prices, cancelling at the end of the period they paid for, updating their
 * card and reading their invoices. Their email stays Tierwall's to change.
 */
export function portalConfigurationParams(
  siteName: string,
  returnUrl: string,
  tierProducts: readonly Pick<TierProduct, "productId" | "priceIds">[],
): Stripe.BillingPortal.ConfigurationCreateParams {
  return {
    business_profile: { headline: siteName },
    default_return_url: returnUrl,
    features: {
      customer_update: { enabled: false },
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: {
        enabled: true,
        mode: "at_period_end",
        proration_behavior: "none",
      },
      subscription_update: {
        enabled: true,
        default_allowed_updates: ["price"],
        proration_behavior: "create_prorations",
        products: tierProducts
          .filter((entry) => entry.priceIds.length > 0)
          .map((entry) => ({ product: entry.productId, prices: entry.priceIds })),
      },
    },
    metadata: { ...PORTAL_CONFIGURATION_METADATA },
  };
}

/** The parts of a configuration setup decides, in one comparable form. */
export function portalShape(
  source:
    | Stripe.BillingPortal.Configuration
    | Stripe.BillingPortal.ConfigurationCreateParams,
): string {
  const features = source.features;
  const update = features.subscription_update;
  const products = (update?.products || [])
    .map((entry) => `${entry.product}:${[...entry.prices].sort().join(",")}`)
    .sort();
  return JSON.stringify({
    headline: source.business_profile?.headline ?? null,
    returnUrl: source.default_return_url || null,
    customerUpdate: features.customer_update?.enabled ?? false,
    invoices: features.invoice_history?.enabled ?? false,
    paymentMethod: features.payment_method_update?.enabled ?? false,
    cancel: features.subscription_cancel?.enabled ?? false,
    cancelMode: features.subscription_cancel?.mode ?? null,
    update: update?.enabled ?? false,
    updates: [...(update?.default_allowed_updates || [])].sort(),
    proration: update?.proration_behavior ?? null,
    products,
  });
}

async function ensurePortalConfiguration(
  stripe: Stripe,
  params: Stripe.BillingPortal.ConfigurationCreateParams,
): Promise<SetupAction> {
  const action = (outcome: SetupOutcome, id: string): SetupAction => ({
    object: "portal configuration",
    name: "tierwall",
    outcome,
    id,
    detail: "plan switching, cancellation at period end, card updates, invoices",
  });

  const existing = await findPortalConfiguration(stripe);
  if (!existing) {
    return action(
      "created",
      (await stripe.billingPortal.configurations.create(params)).id,
    );
  }
  if (existing.active && portalShape(existing) === portalShape(params)) {
    return action("unchanged", existing.id);
  }
  await stripe.billingPortal.configurations.update(existing.id, {
    ...params,
    active: true,
  });
  return action("updated", existing.id);
}

// --- Webhook endpoint -------------------------------------------------------

/** The endpoint's settings on creation, shared with `npm start` and the tests. */
export function webhookEndpointParams(url: string): Stripe.WebhookEndpointCreateParams {
  return {
    url,
    enabled_events: [...HANDLED_EVENT_TYPES],
    description: "Tierwall: subscriptions and pricing",
    api_version: Stripe.API_VERSION,
    metadata: { tierwall: "webhook" },
  };
}

/** Creates the endpoint; the returned object carries its signing secret. */
export function createWebhookEndpoint(
  stripe: Stripe,
  url: string,
): Promise<Stripe.WebhookEndpoint> {
  return stripe.webhookEndpoints.create(webhookEndpointParams(url));
}

/** Whether an endpoint is enabled and listens to exactly the handled events. */
export function webhookEndpointMatches(endpoint: Stripe.WebhookEndpoint): boolean {
  const listened = [...endpoint.enabled_events].sort();
  const handled = [...HANDLED_EVENT_TYPES].sort();
  return (
    endpoint.status === "enabled" &&
    listened.length === handled.length &&
    listened.every((type, index) => type === handled[index])
  );
}

async function ensureWebhookEndpoint(
  stripe: Stripe,
  url: string,
): Promise<{ action: SetupAction; secret: string | null }> {
  const action = (outcome: SetupOutcome, id: string, detail: string): SetupAction => ({
    object: "webhook endpoint",
    name: url,
    outcome,
    id,
    detail,
  });
  const events = `${HANDLED_EVENT_TYPES.length} event types`;

  const endpoints = await stripe.webhookEndpoints
    .list({ limit: 100 })
    .autoPagingToArray({ limit: 1_000 });
  const existing = endpoints.find((endpoint) => endpoint.url === url);
  if (!existing) {
    const created = await createWebhookEndpoint(stripe, url);
    return {
      action: action("created", created.id, events),
      secret: created.secret ?? null,
    };
  }

  if (webhookEndpointMatches(existing)) {
    return { action: action("unchanged", existing.id, events), secret: null };
  }
  await stripe.webhookEndpoints.update(existing.id, {
    enabled_events: [...HANDLED_EVENT_TYPES],
    disabled: false,
  });
  return { action: action("updated", existing.id, `${events}, enabled`), secret: null };
}
