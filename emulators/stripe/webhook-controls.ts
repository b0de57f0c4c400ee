import type { H3Event } from "h3";
import type { EmulatorContext } from "./context.ts";
import {
  readChoice,
  readControlBody,
  readFlag,
  readTextList,
  readWholeNumber,
} from "./control-body.ts";
import type { DeliverySettings, SentDelivery } from "./delivery.ts";
import { noSuchObject } from "./errors.ts";
import type { Delivery, StoredEvent } from "./types.ts";

/*
 * The control routes that steer webhook delivery (documented in control.ts):
 * hold deliveries back and release them in another order, drop them, delay
 * or duplicate them, and send an event again.
 */

const RELEASE_ORDERS = ["created", "reverse", "shuffle"] as const;
type ReleaseOrder = (typeof RELEASE_ORDERS)[number];

export async function changeDeliverySettings(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<DeliverySettings> {
  const body = await readControlBody(event);
  const changes: Partial<DeliverySettings> = {};
  const hold = readFlag(body, "hold");
  const delay = readWholeNumber(body, "delay_ms", { min: 0, max: 600_000 });
  const copies = readWholeNumber(body, "copies", { min: 1, max: 50 });
  if (hold !== undefined) changes.hold = hold;
  if (delay !== undefined) changes.delay_ms = delay;
  if (copies !== undefined) changes.copies = copies;
  return ctx.deliveries.configure(changes);
}

function requireEvent(ctx: EmulatorContext, id: string): StoredEvent {
  const event = ctx.store.events.get(id);
  if (!event) throw noSuchObject("event", id);
  return event;
}

export function listHeld(ctx: EmulatorContext): unknown[] {
  return ctx.deliveries.held().map((delivery) => {
    const event = requireEvent(ctx, delivery.eventId);
    return {
      delivery: delivery.id,
      event_id: event.id,
      type: event.type,
      created: event.created,
    };
  });
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** Held deliveries of the listed events in the listed order, or all in `order`. */
function selectHeld(
  ctx: EmulatorContext,
  eventIds: string[] | undefined,
  order: ReleaseOrder = "created",
): Delivery[] {
  const held = ctx.deliveries.held();
  if (eventIds) {
    return eventIds.flatMap((id) => {
      requireEvent(ctx, id);
      return held.filter((delivery) => delivery.eventId === id);
    });
  }
  if (order === "reverse") return held.reverse();
  if (order === "shuffle") return shuffled(held);
  return held;
}

export async function releaseHeld(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<unknown> {
  const body = await readControlBody(event);
  const order = readChoice(body, "order", RELEASE_ORDERS);
  const selected = selectHeld(ctx, readTextList(body, "event_ids"), order);

  const sent = await ctx.deliveries.release(selected);
  return {
    released: sent.map(({ delivery, result }) => ({
      event_id: delivery.eventId,
      type: requireEvent(ctx, delivery.eventId).type,
      status: result?.status ?? null,
    })),
  };
}

export async function dropHeld(ctx: EmulatorContext, event: H3Event): Promise<unknown> {
  const body = await readControlBody(event);
  const selected = selectHeld(ctx, readTextList(body, "event_ids"));
  return { dropped: ctx.deliveries.drop(selected) };
}

function describeSent({ delivery, result }: SentDelivery): Record<string, unknown> {
  const shown: Record<string, unknown> = {
    endpoint: delivery.endpointId,
    url: delivery.url,
    status: result?.status ?? null,
  };
  if (result?.error) shown.error = result.error;
  return shown;
}

export async function redeliverEvent(ctx: EmulatorContext, id: string): Promise<unknown> {
  const sent = await ctx.deliveries.redeliver(requireEvent(ctx, id));
  return { deliveries: sent.map(describeSent) };
}
