import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject } from "./errors.ts";
import { newId, newWebhookSecret } from "./ids.ts";
import { paginate } from "./list.ts";
import {
  expand,
  flag,
  list,
  mergeMetadata,
  metadata,
  metadataUpdate,
  pagination,
  parseParams,
  text,
} from "./params.ts";
import type { StoredWebhookEndpoint } from "./types.ts";

/*
 * Webhook endpoints, as `stripe.webhookEndpoints.*` manages them. The signing
 * secret appears only in the response to create, as on Stripe; the control
 * route GET /_emulator/webhook_endpoints shows it again for local tooling.
 */

const urlParam = text.refine(
  (value) => /^https?:\/\//.test(value) && URL.canParse(value),
  {
    error: "Invalid URL: must be an http or https URL",
  },
);
const eventList = list(text.min(1)).refine((events) => events.length > 0, {
  error: "At least one event type is required",
});

/** The public form: everything except the secret. */
function presentEndpoint(endpoint: StoredWebhookEndpoint): Stripe.WebhookEndpoint {
  const { secret: _, ...shown } = endpoint;
  return shown;
}

function requireEndpoint(ctx: EmulatorContext, id: string): StoredWebhookEndpoint {
  const endpoint = ctx.store.webhookEndpoints.get(id);
  if (!endpoint) throw noSuchObject("webhook_endpoint", id);
  return endpoint;
}

const createSchema = z.object({
  url: urlParam,
  enabled_events: eventList,
  description: text.optional(),
  metadata: metadata.optional(),
  api_version: text.optional(),
  expand,
});

export function createWebhookEndpoint(
  ctx: EmulatorContext,
  raw: unknown,
): StoredWebhookEndpoint {
  const params = parseParams(createSchema, raw);
  const endpoint: StoredWebhookEndpoint = {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: params.api_version ?? null,
    application: null,
    created: ctx.store.now(),
    description: params.description ?? null,
    enabled_events: params.enabled_events,
    livemode: false,
    metadata: params.metadata ?? {},
    secret: newWebhookSecret(),
    status: "enabled",
    url: params.url,
  };
  return structuredClone(ctx.store.webhookEndpoints.insert(endpoint));
}

export function retrieveWebhookEndpoint(
  ctx: EmulatorContext,
  id: string,
): Stripe.WebhookEndpoint {
  return presentEndpoint(requireEndpoint(ctx, id));
}

const updateSchema = z.object({
  url: urlParam.optional(),
  enabled_events: eventList.optional(),
  description: text.optional(),
  disabled: flag.optional(),
  metadata: metadataUpdate.optional(),
  expand,
});

export function updateWebhookEndpoint(
  ctx: EmulatorContext,
  id: string,
  raw: unknown,
): Stripe.WebhookEndpoint {
  const endpoint = requireEndpoint(ctx, id);
  const params = parseParams(updateSchema, raw);

  if (params.url) endpoint.url = params.url;
  if (params.enabled_events) endpoint.enabled_events = params.enabled_events;
  if (params.description !== undefined) endpoint.description = params.description;
  if (params.disabled !== undefined) {
    endpoint.status = params.disabled ? "disabled" : "enabled";
  }
  endpoint.metadata = mergeMetadata(endpoint.metadata, params.metadata);
  return presentEndpoint(endpoint);
}

export function deleteWebhookEndpoint(
  ctx: EmulatorContext,
  id: string,
): Stripe.DeletedWebhookEndpoint {
  requireEndpoint(ctx, id);
  ctx.store.webhookEndpoints.delete(id);
  return { id, object: "webhook_endpoint", deleted: true };
}

export function listWebhookEndpoints(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<Stripe.WebhookEndpoint> {
  const params = parseParams(z.object({ ...pagination, expand }), raw);
  const rows = ctx.store.webhookEndpoints.newestFirst().map(presentEndpoint);
  return paginate(rows, params, "/v1/webhook_endpoints");
}
