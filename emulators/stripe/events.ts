import type Stripe from "stripe";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject } from "./errors.ts";
import { newId } from "./ids.ts";
import { paginate } from "./list.ts";
import { expand, list, pagination, parseParams, text } from "./params.ts";
import { API_VERSION, type EventType, type StoredEvent } from "./types.ts";

/**
 * Records an event and hands it to webhook delivery. `object` is snapshotted, so
 * later changes to the stored object do not alter the event.
 */
export function emitEvent(
  ctx: EmulatorContext,
  type: EventType,
  object: object,
  previousAttributes?: Record<string, unknown>,
): StoredEvent {
  const data: StoredEvent["data"] = { object: structuredClone(object) };
  if (previousAttributes) data.previous_attributes = previousAttributes;

  const request = ctx.activeRequest;
  const event: StoredEvent = {
    id: newId("evt"),
    object: "event",
    api_version: API_VERSION,
    created: ctx.store.now(),
    data,
    livemode: false,
    pending_webhooks: 0,
    request: {
      id: request?.id ?? null,
      idempotency_key: request?.idempotencyKey ?? null,
    },
    type,
  };

  ctx.store.events.insert(event);
  ctx.deliveries.enqueue(event);
  return event;
}

/** The top-level fields of `before` that differ in `after`, with their old values. */
export function changedAttributes(
  before: object,
  after: object,
): Record<string, unknown> | undefined {
  const previous: Record<string, unknown> = {};
  const old = before as Record<string, unknown>;
  const now = after as Record<string, unknown>;
  for (const key of Object.keys(now)) {
    if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) previous[key] = old[key];
  }
  return Object.keys(previous).length > 0 ? previous : undefined;
}

export function retrieveEvent(ctx: EmulatorContext, id: string): StoredEvent {
  const event = ctx.store.events.get(id);
  if (!event) throw noSuchObject("event", id);
  return event;
}

const listSchema = z.object({
  ...pagination,
  type: text.optional(),
  types: list(text).optional(),
  expand,
});

export function listEvents(
  ctx: EmulatorContext,
  raw: unknown,
): Stripe.ApiList<StoredEvent> {
  const params = parseParams(listSchema, raw);
  const rows = ctx.store.events.newestFirst().filter((event) => {
    if (params.type && !matchesType(params.type, event.type)) return false;
    return !params.types || params.types.includes(event.type);
  });
  return paginate(rows, params, "/v1/events");
}

/** Stripe's `type` filter accepts one `*` wildcard, as in "customer.subscription.*". */
function matchesType(pattern: string, type: string): boolean {
  if (!pattern.includes("*")) return pattern === type;
  const [prefix = "", suffix = ""] = pattern.split("*");
  return type.startsWith(prefix) && type.endsWith(suffix);
}
