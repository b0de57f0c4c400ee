import Stripe from "stripe";
import { afterEach, describe, expect, test } from "vitest";
import {
  callApi,
  control,
  emulatorEvents,
  flushWebhooks,
  startWebhookReceiver,
  useStripeEmulator,
  type WebhookReceiver,
} from "./support/stripe.ts";

const env = useStripeEmulator({ retryDelaysMs: [50, 100] });
const receivers: WebhookReceiver[] = [];
const endpoints: string[] = [];

interface Held {
  delivery: string;
  event_id: string;
  type: string;
  created: number;
}

interface Released {
  released: { event_id: string; type: string; status: number | null }[];
}

afterEach(async () => {
  await control(env.emulator, "reset");
  for (const id of endpoints.splice(0)) await env.stripe.webhookEndpoints.del(id);
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function listen(
  respond?: Parameters<typeof startWebhookReceiver>[0],
): Promise<{ receiver: WebhookReceiver; secret: string }> {
  const receiver = await startWebhookReceiver(respond);
  receivers.push(receiver);
  const endpoint = await env.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["customer.created"],
  });
  endpoints.push(endpoint.id);
  return { receiver, secret: endpoint.secret ?? "" };
}

function receivedIds(receiver: WebhookReceiver, secret: string): string[] {
  return receiver.received.map(
    ({ body, signature }) =>
      (
        env.stripe.webhooks.constructEvent(body, signature, secret).data.object as {
          id: string;
        }
      ).id,
  );
}

async function createCustomers(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await env.stripe.customers.create({ email: `h${i}@example.com` })).id);
  }
  return ids;
}

async function heldDeliveries(): Promise<Held[]> {
  return (await (
    await fetch(`${env.emulator.url}/_emulator/webhooks/held`)
  ).json()) as Held[];
}

describe("webhook delivery settings", () => {
  test("answer the current settings, and reset restores the defaults", async () => {
    const changed = await control(env.emulator, "webhooks/settings", {
      hold: true,
      delay_ms: 20,
    });
    await control(env.emulator, "reset");
    const after = await control(env.emulator, "webhooks/settings");

    expect(changed.body).toEqual({ hold: true, delay_ms: 20, copies: 1 });
    expect(after.body).toEqual({ hold: false, delay_ms: 0, copies: 1 });
  });

  test("accept a form body and refuse a value of the wrong kind", async () => {
    const form = await fetch(`${env.emulator.url}/_emulator/webhooks/settings`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "copies=3&hold=false",
    });
    const wrong = await control(env.emulator, "webhooks/settings", { copies: 0 });

    expect(await form.json()).toEqual({ hold: false, delay_ms: 0, copies: 3 });
    expect(wrong.status).toBe(400);
  });
});

describe("held webhooks", () => {
  test("are listed oldest first, not sent, and not waited for by flush", async () => {
    const { receiver } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    const customers = await createCustomers(2);

    await flushWebhooks(env.emulator);
    const held = await heldDeliveries();

    expect(receiver.received).toHaveLength(0);
    expect(held.map((row) => row.type)).toEqual(["customer.created", "customer.created"]);
    expect(held[0]?.delivery).toMatch(/^whdel_/);
    const events = await emulatorEvents(env.emulator);
    const mine = events.filter((event) => customers.includes(event.object_id ?? ""));
    expect(mine.map((event) => event.id)).toEqual(held.map((row) => row.event_id));
    expect(mine.every((event) => event.deliveries[0]?.state === "held")).toBe(true);
  });

  test("are released in reverse order, each answered before the next is sent", async () => {
    const { receiver, secret } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    const customers = await createCustomers(3);

    const { body } = await control<Released>(env.emulator, "webhooks/release", {
      order: "reverse",
    });

    expect(receivedIds(receiver, secret)).toEqual([...customers].reverse());
    expect(body.released.map((row) => row.status)).toEqual([200, 200, 200]);
    expect(body.released[0]?.type).toBe("customer.created");
    expect(await heldDeliveries()).toEqual([]);
    const settings = await control(env.emulator, "webhooks/settings");
    expect(settings.body).toMatchObject({ hold: true });
  });

  test("are released for the listed events only, in the listed order", async () => {
    const { receiver, secret } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    await createCustomers(3);
    const held = await heldDeliveries();
    const chosen = [held[2]?.event_id, held[0]?.event_id];

    const { body } = await control<Released>(env.emulator, "webhooks/release", {
      event_ids: chosen,
    });

    expect(body.released.map((row) => row.event_id)).toEqual(chosen);
    expect(receivedIds(receiver, secret)).toHaveLength(2);
    expect((await heldDeliveries()).map((row) => row.event_id)).toEqual([
      held[1]?.event_id,
    ]);
  });

  test("shuffled release sends every held delivery once", async () => {
    const { receiver, secret } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    const customers = await createCustomers(4);

    await control(env.emulator, "webhooks/release", { order: "shuffle" });

    expect(receivedIds(receiver, secret).sort()).toEqual([...customers].sort());
  });

  test("a released delivery that fails goes on to the usual retries", async () => {
    const { receiver } = await listen((_delivery, index) => (index === 0 ? 500 : 200));
    await control(env.emulator, "webhooks/settings", { hold: true });
    await createCustomers(1);

    const { body } = await control<Released>(env.emulator, "webhooks/release");
    await flushWebhooks(env.emulator);

    expect(body.released.map((row) => row.status)).toEqual([500]);
    expect(receiver.received).toHaveLength(2);
  });

  test("dropped deliveries are never sent, and redelivery sends the event again", async () => {
    const { receiver, secret } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    const [customer] = await createCustomers(1);
    const [held] = await heldDeliveries();

    const dropped = await control(env.emulator, "webhooks/drop", {
      event_ids: [held?.event_id],
    });
    await control(env.emulator, "webhooks/release");
    await flushWebhooks(env.emulator);
    const before = receiver.received.length;
    const again = await control(env.emulator, `events/${held?.event_id}/redeliver`);

    expect(dropped.body).toEqual({ dropped: 1 });
    expect(before).toBe(0);
    expect(again.body).toEqual({
      deliveries: [{ endpoint: endpoints[0], url: receiver.url, status: 200 }],
    });
    expect(receivedIds(receiver, secret)).toEqual([customer]);
    const event = (await emulatorEvents(env.emulator)).find(
      (e) => e.id === held?.event_id,
    );
    expect(event?.deliveries.map((d) => d.state)).toEqual(["dropped", "succeeded"]);
    expect(
      (await env.stripe.events.retrieve(held?.event_id ?? "")).pending_webhooks,
    ).toBe(0);
  });
});

describe("redelivery", () => {
  test("sends a delivered event again with the same ID and payload, freshly signed", async () => {
    const { receiver, secret } = await listen();
    await createCustomers(1);
    await flushWebhooks(env.emulator);
    const [first] = receiver.received;
    const event = env.stripe.webhooks.constructEvent(
      first?.body ?? "",
      first?.signature ?? "",
      secret,
    );

    const { body } = await control<{ deliveries: { status: number }[] }>(
      env.emulator,
      `events/${event.id}/redeliver`,
    );

    expect(body.deliveries.map((d) => d.status)).toEqual([200]);
    const second = receiver.received[1];
    expect(second?.body).toBe(first?.body);
    expect(
      env.stripe.webhooks.constructEvent(
        second?.body ?? "",
        second?.signature ?? "",
        secret,
      ).id,
    ).toBe(event.id);
  });

  test("reports a failed connection, and an unknown event is a 404", async () => {
    const endpoint = await env.stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:9/webhook",
      enabled_events: ["customer.created"],
    });
    endpoints.push(endpoint.id);
    await control(env.emulator, "webhooks/settings", { hold: true });
    await createCustomers(1);
    const [held] = await heldDeliveries();

    const { body } = await control<{ deliveries: Record<string, unknown>[] }>(
      env.emulator,
      `events/${held?.event_id}/redeliver`,
    );
    const missing = await control(env.emulator, "events/evt_missing/redeliver");

    expect(body.deliveries[0]).toMatchObject({ status: null, error: expect.any(String) });
    expect(missing.status).toBe(404);
  });
});

describe("delayed and duplicated webhooks", () => {
  test("delay_ms holds each first attempt back for that long", async () => {
    const { receiver } = await listen();
    await control(env.emulator, "webhooks/settings", { delay_ms: 300 });
    const started = Date.now();
    await createCustomers(1);

    await new Promise((resolve) => setTimeout(resolve, 100));
    const early = receiver.received.length;
    await flushWebhooks(env.emulator);

    expect(early).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test("copies sends the same signed payload several times at once", async () => {
    const { receiver, secret } = await listen();
    await control(env.emulator, "webhooks/settings", { copies: 3 });
    await createCustomers(1);
    await flushWebhooks(env.emulator);

    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.signature)).size).toBe(1);
    expect(new Set(receivedIds(receiver, secret)).size).toBe(1);
  });

  test("an attempt succeeds only when every copy got a 2xx", async () => {
    const { receiver } = await listen((_delivery, index) => (index === 0 ? 500 : 200));
    await control(env.emulator, "webhooks/settings", { copies: 2 });
    const [customer] = await createCustomers(1);
    await flushWebhooks(env.emulator);

    expect(receiver.received).toHaveLength(4);
    const event = (await emulatorEvents(env.emulator)).find(
      (e) => e.object_id === customer,
    );
    expect(event?.deliveries[0]?.attempts.map((a) => a.status)).toEqual([500, 200]);
  });
});

describe("API outage", () => {
  test("every /v1 request fails with Stripe's api_error while it lasts", async () => {
    const on = await control(env.emulator, "outage", { api: true });
    const error = await env.stripe.customers.list().catch((e: unknown) => e);
    const raw = await fetch(`${env.emulator.url}/v1/products`, {
      headers: { Authorization: "Bearer sk_test_x" },
    });
    await control(env.emulator, "outage", { api: false });

    expect(on.body).toEqual({ api: true });
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({
      statusCode: 500,
      message: expect.stringContaining("Stripe is unavailable (emulated outage)"),
    });
    expect(raw.status).toBe(500);
    expect(raw.headers.get("stripe-should-retry")).toBe("false");
    expect((await raw.json()).error.type).toBe("api_error");
    expect((await env.stripe.products.list()).data.length).toBeGreaterThan(0);
  });

  test("webhooks and control routes keep working, and reset ends the outage", async () => {
    const { receiver } = await listen();
    await control(env.emulator, "webhooks/settings", { hold: true });
    await createCustomers(1);

    await control(env.emulator, "outage", { api: true });
    const { body } = await control<Released>(env.emulator, "webhooks/release");
    const events = await emulatorEvents(env.emulator);
    await control(env.emulator, "reset");
    const { status } = await callApi(env.emulator, "GET", "/v1/products");

    expect(body.released.map((row) => row.status)).toEqual([200]);
    expect(receiver.received).toHaveLength(1);
    expect(events.length).toBeGreaterThan(0);
    expect(status).toBe(200);
  });
});
