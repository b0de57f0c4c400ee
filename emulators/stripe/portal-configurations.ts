import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { invalidParam, noSuchObject } from "./errors.ts";
import { changedAttributes, emitEvent } from "./events.ts";
import { newId } from "./ids.ts";
import { listPage } from "./list.ts";
import {
  expand,
  flag,
  list,
  mergeMetadata,
  metadata,
  metadataUpdate,
  oneOf,
  pagination,
  parseParams,
  text,
} from "./params.ts";
import type { Store, Table } from "./store.ts";

/*
 * Billing Portal configurations, as `stripe.billingPortal.configurations.*`
 * manages them: create, list, retrieve and update (Stripe has no delete; an
 * operator deactivates one instead). Every account has a default
 * configuration, the one the dashboard edits; here it is the one whose id
 * portal sessions report, and it is listed alongside the ones created through
 * the API.
 * They are kept in the state file like every other object, and
 * POST /_emulator/reset leaves only the default.
 */

type Configuration = Stripe.BillingPortal.Configuration;
type Features = Stripe.BillingPortal.Configuration.Features;

/** The account's configurations; the default one exists from the start. */
function configurations(ctx: EmulatorContext): Table<Configuration> {
  const table = ctx.store.portalConfigurations;
  if (!table.get(ctx.store.portalConfigurationId)) {
    table.insert(buildDefaultConfiguration(ctx.store));
  }
  return table;
}

/** Whether `id` names a configuration of this emulator, active or not. */
export function hasPortalConfiguration(ctx: EmulatorContext, id: string): boolean {
  return configurations(ctx).get(id) !== undefined;
}

function requireConfiguration(ctx: EmulatorContext, id: string): Configuration {
  const configuration = configurations(ctx).get(id);
  if (!configuration) throw noSuchObject("billing_portal.configuration", id);
  return configuration;
}

// --- Parameters ---------------------------------------------------------------

/** `x=` (empty) clears an optional text field. */
const clearableText = z.union([z.literal("").transform(() => null), text]);

/** `x=` (empty) sends an empty list. */
function clearableList<T extends z.ZodType>(item: T) {
  return z.union([z.literal("").transform(() => []), list(item)]);
}

const productParam = z.object({
  product: text,
  prices: list(text),
  adjustable_quantity: z
    .object({
      enabled: flag,
      maximum: text.optional(),
      minimum: text.optional(),
    })
    .optional(),
});

const featuresParam = z.object({
  customer_update: z
    .object({
      enabled: flag.optional(),
      allowed_updates: clearableList(
        oneOf(["address", "email", "name", "phone", "shipping", "tax_id"]),
      ).optional(),
    })
    .optional(),
  invoice_history: z.object({ enabled: flag }).optional(),
  payment_method_update: z
    .object({ enabled: flag, payment_method_configuration: clearableText.optional() })
    .optional(),
  subscription_cancel: z
    .object({
      enabled: flag.optional(),
      mode: oneOf(["at_period_end", "immediately"]).optional(),
      proration_behavior: oneOf([
        "always_invoice",
        "create_prorations",
        "none",
      ]).optional(),
    })
    .optional(),
  subscription_pause: z.object({ enabled: flag.optional() }).optional(),
  subscription_update: z
    .object({
      enabled: flag.optional(),
      default_allowed_updates: clearableList(
        oneOf(["price", "promotion_code", "quantity"]),
      ).optional(),
      products: clearableList(productParam).optional(),
      proration_behavior: oneOf([
        "always_invoice",
        "create_prorations",
        "none",
      ]).optional(),
      billing_cycle_anchor: oneOf(["now", "unchanged"]).optional(),
    })
    .optional(),
});

type FeaturesParam = z.output<typeof featuresParam>;

const businessProfileParam = z.object({
  headline: clearableText.optional(),
  privacy_policy_url: clearableText.optional(),
  terms_of_service_url: clearableText.optional(),
});

// --- Objects ------------------------------------------------------------------

function defaultFeatures(): Features {
  return {
    customer_update: { allowed_updates: [], enabled: false },
    invoice_history: { enabled: false },
    payment_method_update: { enabled: false, payment_method_configuration: null },
    subscription_cancel: {
      cancellation_reason: { enabled: false, feedback_options: null, options: [] },
      enabled: false,
      mode: "at_period_end",
      proration_behavior: "none",
    },
    subscription_pause: {
      duration: { interval_options: [], type: "indefinite" },
      enabled: false,
    },
    subscription_update: {
      billing_cycle_anchor: null,
      default_allowed_updates: [],
      enabled: false,
      products: [],
      proration_behavior: "none",
      schedule_at_period_end: { conditions: [] },
      trial_update_behavior: "end_trial",
    },
  };
}

function buildConfiguration(id: string, now: number, isDefault: boolean): Configuration {
  return {
    id,
    object: "billing_portal.configuration",
    active: true,
    application: null,
    business_profile: {
      headline: null,
      privacy_policy_url: null,
      terms_of_service_url: null,
    },
    created: now,
    default_return_url: null,
    features: defaultFeatures(),
    is_default: isDefault,
    livemode: false,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: now,
  };
}

/** The dashboard's configuration: the portal page lets readers do all of it. */
function buildDefaultConfiguration(store: Store): Configuration {
  const configuration = buildConfiguration(
    store.portalConfigurationId,
    store.now(),
    true,
  );
  const features = configuration.features;
  features.invoice_history.enabled = true;
  features.payment_method_update.enabled = true;
  features.subscription_cancel.enabled = true;
  features.subscription_update.enabled = true;
  features.subscription_update.default_allowed_updates = ["price"];
  return configuration;
}

/** Every price listed must be a recurring price of the product it is listed under. */
function checkProducts(
  ctx: EmulatorContext,
  products: z.output<typeof productParam>[],
): void {
  products.forEach((entry, index) => {
    const param = `features[subscription_update][products][${index}]`;
    if (!ctx.store.products.get(entry.product)) {
      throw noSuchObject("product", entry.product, `${param}[product]`);
    }
    for (const priceId of entry.prices) {
      const price = ctx.store.prices.get(priceId);
      if (!price) throw noSuchObject("price", priceId, `${param}[prices]`);
      if (price.product !== entry.product || price.type !== "recurring") {
        throw invalidParam(
          `${param}[prices]`,
          `The price ${priceId} is not a recurring price of ${entry.product}.`,
        );
      }
    }
  });
}

function applyFeatures(ctx: EmulatorContext, features: Features, changes: FeaturesParam) {
  const { customer_update, invoice_history, payment_method_update } = changes;
  const { subscription_cancel, subscription_pause, subscription_update } = changes;

  Object.assign(features.customer_update, customer_update);
  Object.assign(features.invoice_history, invoice_history);
  if (payment_method_update) {
    features.payment_method_update.enabled = payment_method_update.enabled;
    if (payment_method_update.payment_method_configuration !== undefined) {
      features.payment_method_update.payment_method_configuration =
        payment_method_update.payment_method_configuration;
    }
  }
  Object.assign(features.subscription_cancel, subscription_cancel);
  Object.assign(features.subscription_pause, subscription_pause);
  if (subscription_update) applySubscriptionUpdate(ctx, features, subscription_update);
}

function applySubscriptionUpdate(
  ctx: EmulatorContext,
  features: Features,
  changes: NonNullable<FeaturesParam["subscription_update"]>,
): void {
  const { products, ...rest } = changes;
  Object.assign(features.subscription_update, rest);
  if (!products) return;

  checkProducts(ctx, products);
  features.subscription_update.products = products.map((entry) => ({
    adjustable_quantity: {
      enabled: entry.adjustable_quantity?.enabled ?? false,
      maximum: entry.adjustable_quantity?.maximum
        ? Number(entry.adjustable_quantity.maximum)
        : null,
      minimum: Number(entry.adjustable_quantity?.minimum ?? 1),
    },
    prices: entry.prices,
    product: entry.product,
  }));
}

function applyCommonFields(
  configuration: Configuration,
  params: {
    business_profile?: z.output<typeof businessProfileParam>;
    default_return_url?: string | null;
    name?: string | null;
    login_page?: { enabled: boolean };
  },
): void {
  Object.assign(configuration.business_profile, params.business_profile);
  if (params.default_return_url !== undefined) {
    configuration.default_return_url = params.default_return_url;
  }
  if (params.name !== undefined) configuration.name = params.name;
  if (params.login_page) configuration.login_page.enabled = params.login_page.enabled;
}

// --- Routes -------------------------------------------------------------------

const returnUrl = clearableText.refine((value) => value === null || URL.canParse(value), {
  error: "Not a valid URL",
});

const createSchema = z.object({
  features: featuresParam,
  business_profile: businessProfileParam.optional(),
  default_return_url: returnUrl.optional(),
  login_page: z.object({ enabled: flag }).optional(),
  metadata: metadata.optional(),
  name: clearableText.optional(),
  expand,
});

export function createPortalConfiguration(
  ctx: EmulatorContext,
  raw: unknown,
): Configuration {
  const params = parseParams(createSchema, raw);
  const now = ctx.store.now();
  const configuration = buildConfiguration(newId("bpc"), now, false);

  applyFeatures(ctx, configuration.features, params.features);
  applyCommonFields(configuration, params);
  configuration.metadata = params.metadata ?? {};

  configurations(ctx).insert(configuration);
  emitEvent(ctx, "billing_portal.configuration.created", configuration);
  return structuredClone(configuration);
}

export function retrievePortalConfiguration(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): Configuration {
  parseParams(z.object({ expand }), raw);
  return structuredClone(requireConfiguration(ctx, id));
}

const updateSchema = z.object({
  active: flag.optional(),
  features: featuresParam.optional(),
  business_profile: businessProfileParam.optional(),
  default_return_url: returnUrl.optional(),
  login_page: z.object({ enabled: flag }).optional(),
  metadata: metadataUpdate.optional(),
  name: clearableText.optional(),
  expand,
});

export function updatePortalConfiguration(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): Configuration {
  const configuration = requireConfiguration(ctx, id);
  const params = parseParams(updateSchema, raw);
  if (params.active === false && configuration.is_default) {
    throw invalidParam("active", "The default configuration cannot be deactivated.");
  }

  const before = structuredClone(configuration);
  if (params.features) applyFeatures(ctx, configuration.features, params.features);
  applyCommonFields(configuration, params);
  if (params.active !== undefined) configuration.active = params.active;
  configuration.metadata = mergeMetadata(configuration.metadata ?? {}, params.metadata);
  configuration.updated = ctx.store.now();

  emitEvent(
    ctx,
    "billing_portal.configuration.updated",
    configuration,
    changedAttributes(before, configuration),
  );
  return structuredClone(configuration);
}

const listSchema = z.object({
  ...pagination,
  active: flag.optional(),
  is_default: flag.optional(),
  expand,
});

export function listPortalConfigurations(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<Configuration> {
  const params = parseParams(listSchema, raw);
  const rows = configurations(ctx)
    .newestFirst()
    .filter((configuration) => {
      const { active, is_default } = params;
      if (active !== undefined && configuration.active !== active) return false;
      return is_default === undefined || configuration.is_default === is_default;
    });
  const url = "/v1/billing_portal/configurations";
  return listPage(ctx, rows, params, url, (row) => structuredClone(row));
}
