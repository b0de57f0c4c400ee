import type { H3Event } from "h3";
import { z } from "zod";
import type { EmulatorContext } from "./context.ts";
import { controlNumber, parseControlBody, readControlBody } from "./control-body.ts";
import type { BurstDelivery } from "./delivery.ts";
import { StripeApiError } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { presentSubscription } from "./subscriptions.ts";
import type { Delivery, EventType, StoredEvent, StoredSubscription } from "./types.ts";

/*
 * POST /_emulator/webhooks/burst: many events at once, as Stripe sends them
 * after a busy minute (a renewal run, a price change). The events are real
 * ones, recorded the usual way for subscriptions that already exist, so the
 * API lists them and their payloads are those of any other delivery; they are
 * then sent to the endpoints with many in flight at once, and the answer
 * reports how that went.
 */

/** The event types a burst can make, by the object each carries. */
const SUBSCRIPTION_TYPES = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
  "customer.subscription.pending_update_applied",
  "customer.subscription.pending_update_expired",
] as const satisfies readonly EventType[];

const INVOICE_TYPES = [
  "invoice.created",
  "invoice.finalized",
  "invoice.updated",
  "invoice.paid",
  "invoice.payment_succeeded",
  "invoice.payment_failed",
  "invoice.payment_action_required",
] as const satisfies readonly EventType[];

const CUSTOMER_TYPES = [
  "customer.created",
  "customer.updated",
] as const satisfies readonly EventType[];

const BURST_TYPES = [...SUBSCRIPTION_TYPES, ...INVOICE_TYPES, ...CUSTOMER_TYPES] as const;
type BurstType = (typeof BURST_TYPES)[number];

const wholeNumber = (min: number, max: number) =>
  z.preprocess(controlNumber, z.int().min(min).max(max));

const burstSchema = z
  .object({
    count: wholeNumber(1, 10_000),
    concurrency: wholeNumber(1, 256).optional(),
    mix: z
      .partialRecord(z.enum(BURST_TYPES), wholeNumber(0, 10_000))
      .refine((mix) => Object.values(mix).some((weight) => (weight ?? 0) > 0), {
        error: "give at least one type a weight above 0",
      })
      .optional(),
    duplicates: wholeNumber(0, 10_000).optional(),
    customers: z.array(z.string()).min(1).optional(),
  })
  .strict()
  .refine((body) => (body.duplicates ?? 0) <= body.count, {
    error: "cannot exceed count",
    path: ["duplicates"],
  });

type BurstRequest = z.output<typeof burstSchema>;

const DEFAULT_MIX: Partial<Record<BurstType, number>> = {
  "customer.subscription.updated": 1,
};
const DEFAULT_CONCURRENCY = 32;

export interface BurstReport {
  events: number;
  /** Deliveries sent, duplicates included (one per event per endpoint, plus copies). */
  deliveries: number;
  duplicates: number;
  /** Events no endpoint listens to: recorded, never sent. */
  undelivered: number;
  concurrency: number;
  types: Record<string, number>;
  event_ids: string[];
  succeeded: number;
  failed: number;
  attempts: number;
  retries: number;
  non_2xx: number;
  connection_errors: number;
  /** Unix ms of the first attempt and of the last successful answer. */
  first_sent_at: number | null;
  last_success_at: number | null;
  duration_ms: number;
  /** Events delivered per second, from the first send to the last 2xx. */
  events_per_second: number;
  /** From a delivery's first attempt to its 2xx, retries included. */
  latency_ms: { p50: number; p90: number; p99: number; max: number };
}

export async function deliverBurst(
  ctx: EmulatorContext,
  event: H3Event,
): Promise<BurstReport> {
  const request = parseControlBody(await readControlBody(event), burstSchema);
  const subjects = burstSubjects(ctx, request.customers);
  const types = spreadTypes(request.count, request.mix ?? DEFAULT_MIX);
  checkInvoices(ctx, subjects, types);

  const events = ctx.deliveries.captureEvents(() => {
    types.forEach((type, index) => {
      const subject = subjects[index % subjects.length] as StoredSubscription;
      emitEvent(ctx, type, eventObject(ctx, type, subject));
    });
  });
  const deliveries = burstDeliveries(ctx, events, request.duplicates ?? 0);
  const concurrency = request.concurrency ?? DEFAULT_CONCURRENCY;
  const sent = await ctx.deliveries.sendBurst(deliveries, concurrency);
  return reportBurst(events, sent, request, concurrency);
}

/** The subscriptions the events are about: all, or those of the listed customers. */
function burstSubjects(
  ctx: EmulatorContext,
  customers: string[] | undefined,
): StoredSubscription[] {
  const wanted = customers ? new Set(customers) : null;
  const subjects = ctx.store.subscriptions
    .all()
    .filter((sub) => !wanted || wanted.has(String(sub.customer)));
  if (subjects.length === 0) {
    throw new StripeApiError(
      400,
      "A burst needs subscriptions to be about: create some first (API or Checkout).",
      { param: customers ? "customers" : undefined },
    );
  }
  return subjects;
}

/**
 * `count` types in proportion to the weights (largest remainders get the
 * leftovers), in random order so that each type reaches many customers.
 */
function spreadTypes(
  count: number,
  mix: Partial<Record<BurstType, number>>,
): BurstType[] {
  const weighted = Object.entries(mix).filter(([, weight]) => (weight ?? 0) > 0) as [
    BurstType,
    number,
  ][];
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  const shares = weighted.map(([type, weight]) => {
    const exact = (count * weight) / total;
    return { type, count: Math.floor(exact), rest: exact - Math.floor(exact) };
  });

  let missing = count - shares.reduce((sum, share) => sum + share.count, 0);
  for (const share of [...shares].sort((a, b) => b.rest - a.rest)) {
    if (missing-- <= 0) break;
    share.count++;
  }
  return shuffle(shares.flatMap((share) => Array(share.count).fill(share.type)));
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function isInvoiceType(type: BurstType): boolean {
  return (INVOICE_TYPES as readonly string[]).includes(type);
}

/** Invoice events carry the subscription's latest invoice, so each needs one. */
function checkInvoices(
  ctx: EmulatorContext,
  subjects: StoredSubscription[],
  types: BurstType[],
): void {
  if (!types.some(isInvoiceType)) return;
  const without = subjects.find(
    (sub) => !ctx.store.invoices.get(String(sub.latest_invoice)),
  );
  if (without) {
    throw new StripeApiError(
      400,
      `Subscription ${without.id} has no invoice for an invoice event: leave invoice types out of the mix or name other customers.`,
      { param: "mix" },
    );
  }
}

/** What the event carries: the subscription, its latest invoice, or its customer. */
function eventObject(
  ctx: EmulatorContext,
  type: BurstType,
  sub: StoredSubscription,
): object {
  if (isInvoiceType(type)) {
    return ctx.store.invoices.get(String(sub.latest_invoice)) as object;
  }
  if ((CUSTOMER_TYPES as readonly string[]).includes(type)) {
    return ctx.store.customers.get(String(sub.customer)) ?? { id: sub.customer };
  }
  return presentSubscription(ctx, sub);
}

/**
 * One delivery per event and endpoint; `duplicates` events, spread evenly,
 * get a second delivery right behind the first, so both are in flight together.
 */
function burstDeliveries(
  ctx: EmulatorContext,
  events: StoredEvent[],
  duplicates: number,
): Delivery[] {
  const every = duplicates > 0 ? events.length / duplicates : Number.POSITIVE_INFINITY;
  const deliveries: Delivery[] = [];
  events.forEach((event, index) => {
    const twice = Math.floor(index / every) !== Math.floor((index + 1) / every);
    deliveries.push(...ctx.deliveries.createDeliveries(event));
    if (twice) deliveries.push(...ctx.deliveries.createDeliveries(event));
  });
  return deliveries;
}

function reportBurst(
  events: StoredEvent[],
  sent: BurstDelivery[],
  request: BurstRequest,
  concurrency: number,
): BurstReport {
  const attempts = sent.flatMap(({ delivery }) => delivery.attempts);
  const succeeded = sent.filter(({ delivery }) => delivery.state === "succeeded");
  const firstSentAt = minOf(sent.map((entry) => entry.firstSentAt));
  const lastSuccessAt = maxOf(succeeded.map((entry) => entry.finishedAt));
  const durationMs = firstSentAt && lastSuccessAt ? lastSuccessAt - firstSentAt : 0;
  const delivered = new Set(succeeded.map(({ delivery }) => delivery.eventId)).size;
  const latencies = succeeded.map((e) => (e.finishedAt ?? 0) - (e.firstSentAt ?? 0));

  return {
    events: events.length,
    deliveries: sent.length,
    duplicates: request.duplicates ?? 0,
    undelivered: events.length - new Set(sent.map((e) => e.delivery.eventId)).size,
    concurrency,
    types: countBy(events.map((event) => event.type)),
    event_ids: events.map((event) => event.id),
    succeeded: succeeded.length,
    failed: sent.filter(({ delivery }) => delivery.state === "failed").length,
    attempts: attempts.length,
    retries: attempts.length - sent.filter((entry) => entry.firstSentAt).length,
    non_2xx: attempts.filter((a) => a.status !== null && !isSuccess(a.status)).length,
    connection_errors: attempts.filter((attempt) => attempt.status === null).length,
    first_sent_at: firstSentAt,
    last_success_at: lastSuccessAt,
    duration_ms: durationMs,
    events_per_second: durationMs > 0 ? round((delivered * 1000) / durationMs) : 0,
    latency_ms: percentiles(latencies),
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function minOf(values: (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length > 0 ? Math.min(...present) : null;
}

function maxOf(values: (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length > 0 ? Math.max(...present) : null;
}

/** Nearest-rank percentiles, in whole milliseconds. */
function percentiles(values: number[]): BurstReport["latency_ms"] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (share: number): number =>
    sorted.length === 0 ? 0 : (sorted[Math.ceil(share * sorted.length) - 1] ?? 0);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
