import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { BurstReport } from "../../emulators/stripe/burst.ts";
import { control, seededPrice, useStripeEmulator } from "./support/stripe.ts";

const env = useStripeEmulator({ retryDelaysMs: [50, 100] });
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await control(env.emulator, "reset");
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface SlowReceiver {
  url: string;
  /** Event ids in the order their deliveries arrived. */
  received: string[];
  maxInFlight: number;
}

/**
 * A webhook receiver that answers after `delayMs`, verifying each signature,
 * and counts how many deliveries it held at once. `status` picks the answer
 * from the event id and how many times that id arrived before.
 */
async function startSlowReceiver(
  secret: () => string,
  status: (eventId: string, seenBefore: number) => number = () => 200,
  delayMs = 15,
): Promise<SlowReceiver> {
  const receiver: SlowReceiver = { url: "", received: [], maxInFlight: 0 };
  let inFlight = 0;
  const server: Server = createServer((request, response) => {
    inFlight++;
    receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const signature = String(request.headers["stripe-signature"]);
      const event = env.stripe.webhooks.constructEvent(
        Buffer.concat(chunks),
        signature,
        secret(),
      );
      const seenBefore = receiver.received.filter((id) => id === event.id).length;
      receiver.received.push(event.id);
      setTimeout(() => {
        inFlight--;
        response.statusCode = status(event.id, seenBefore);
        response.end();
      }, delayMs);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  cleanups.push(
    () =>
      new Promise((done) => {
        server.close(done);
        server.closeAllConnections();
      }),
  );
  return receiver;
}

/** A receiver registered for the given event types. */
async function listen(
  enabledEvents: string[],
  status?: (eventId: string, seenBefore: number) => number,
): Promise<SlowReceiver> {
  let secret = "";
  const receiver = await startSlowReceiver(() => secret, status);
  const endpoint = await env.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: enabledEvents as ["customer.subscription.updated"],
  });
  secret = endpoint.secret ?? "";
  cleanups.push(() => env.stripe.webhookEndpoints.del(endpoint.id));
  return receiver;
}

/** Customers, each with a paid monthly Core subscription, made through the API. */
async function subscribedCustomers(count: number): Promise<string[]> {
  const price = await seededPrice(env.stripe, "core_monthly");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const customer = await env.stripe.customers.create({ email: `b${i}@example.com` });
    await env.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
    });
    ids.push(customer.id);
  }
  return ids;
}

async function burst(body: object): Promise<BurstReport> {
  const answer = await control<BurstReport>(env.emulator, "webhooks/burst", body);
  if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
  return answer.body;
}

describe("webhook burst", () => {
  test("records real events in the mix and delivers each, signed, many at once", async () => {
    const customers = await subscribedCustomers(8);
    const receiver = await listen(["customer.subscription.updated", "invoice.paid"]);

    const report = await burst({
      count: 60,
      concurrency: 8,
      mix: {
        "customer.subscription.updated": 3,
        "invoice.paid": 2,
        "customer.updated": 1,
      },
    });

    expect(report.types).toEqual({
      "customer.subscription.updated": 30,
      "invoice.paid": 20,
      "customer.updated": 10,
    });
    // customer.updated is recorded, but this endpoint does not listen to it.
    expect(report).toMatchObject({ events: 60, deliveries: 50, undelivered: 10 });
    expect(report).toMatchObject({ succeeded: 50, failed: 0, retries: 0, non_2xx: 0 });
    expect(receiver.received).toHaveLength(50);
    expect(receiver.maxInFlight).toBeGreaterThan(1);
    expect(receiver.maxInFlight).toBeLessThanOrEqual(8);
    expect(report.events_per_second).toBeGreaterThan(0);
    expect(report.latency_ms.p50).toBeGreaterThanOrEqual(15);
    expect(report.latency_ms.p99).toBeGreaterThanOrEqual(report.latency_ms.p50);

    const listed = await env.stripe.events
      .list({ limit: 100 })
      .autoPagingToArray({ limit: 1000 });
    const listedIds = new Set(listed.map((event) => event.id));
    for (const id of report.event_ids) expect(listedIds.has(id)).toBe(true);

    const burstEvents = listed.filter((event) => report.event_ids.includes(event.id));
    const named = burstEvents.map((event) => {
      const object = event.data.object as { id: string; customer?: string };
      return event.type === "customer.updated" ? object.id : String(object.customer);
    });
    expect(new Set(named)).toEqual(new Set(customers));
  });

  test("sends duplicated events twice, side by side", async () => {
    await subscribedCustomers(3);
    const receiver = await listen(["customer.subscription.updated"]);

    const report = await burst({ count: 20, duplicates: 5, concurrency: 4 });

    expect(report).toMatchObject({ events: 20, deliveries: 25, succeeded: 25 });
    const arrivals = new Map<string, number>();
    for (const id of receiver.received) arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
    expect([...arrivals.values()].filter((n) => n === 2)).toHaveLength(5);
    expect(new Set(receiver.received)).toEqual(new Set(report.event_ids));
    for (const [id, count] of arrivals) {
      if (count !== 2) continue;
      const first = receiver.received.indexOf(id);
      expect(receiver.received.indexOf(id, first + 1) - first).toBeLessThanOrEqual(4);
    }
  });

  test("retries failed deliveries and answers once every retry has ended", async () => {
    await subscribedCustomers(2);
    const receiver = await listen(["customer.subscription.updated"], (id, seen) =>
      seen === 0 && id.charCodeAt(id.length - 1) % 2 === 0 ? 500 : 200,
    );

    const report = await burst({ count: 30, concurrency: 6 });

    expect(report.retries).toBeGreaterThan(0);
    expect(report.non_2xx).toBe(report.retries);
    expect(report).toMatchObject({ deliveries: 30, succeeded: 30, failed: 0 });
    expect(receiver.received).toHaveLength(30 + report.retries);
    const pending = await control<{ pending: number }>(env.emulator, "flush");
    expect(pending.body.pending).toBe(0);
  });

  test("answers 400 naming the field for a body it cannot use", async () => {
    const noSubscriptions = await control(env.emulator, "webhooks/burst", { count: 5 });
    expect(noSubscriptions.status).toBe(400);

    await subscribedCustomers(1);
    const cases: [object, string][] = [
      [{}, "count"],
      [{ count: 0 }, "count"],
      [{ count: 5, concurrency: 1000 }, "concurrency"],
      [{ count: 5, mix: { "charge.refunded": 1 } }, "mix"],
      [{ count: 5, mix: { "invoice.paid": 0 } }, "mix"],
      [{ count: 5, duplicates: 6 }, "duplicates"],
      [{ count: 5, surprise: true }, "body"],
    ];
    for (const [body, param] of cases) {
      const answer = await control<{ error: { param?: string } }>(
        env.emulator,
        "webhooks/burst",
        body,
      );
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.param, JSON.stringify(body)).toBe(param);
    }
  });
});
