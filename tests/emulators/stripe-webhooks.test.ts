import Stripe from "stripe";
import { afterEach, describe, expect, test } from "vitest";
import {
  emulatorEvents,
  flushWebhooks,
  startWebhookReceiver,
  subscribe,
  useStripeEmulator,
  type WebhookReceiver,
} from "./support/stripe.ts";

const receivers: WebhookReceiver[] = [];
const endpoints: string[] = [];

const env = useStripeEmulator({ retryDelaysMs: [50, 100] });

afterEach(async () => {
  for (const id of endpoints.splice(0)) await env.stripe.webhookEndpoints.del(id);
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function register(
  receiver: WebhookReceiver,
  events: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = ["*"],
): Promise<string> {
  receivers.push(receiver);
  const endpoint = await env.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: events,
  });
  endpoints.push(endpoint.id);
  expect(endpoint.secret).toMatch(/^whsec_/);
  return endpoint.secret ?? "";
}

function verified(receiver: WebhookReceiver, secret: string): Stripe.Event[] {
  return receiver.received.map(({ body, signature }) =>
    env.stripe.webhooks.constructEvent(body, signature, secret),
  );
}

describe("webhook delivery", () => {
  test("delivers events signed so that env.stripe.webhooks.constructEvent accepts them", async () => {
    const receiver = await startWebhookReceiver();
    const secret = await register(receiver);

    const { subscription } = await subscribe(env.stripe, "core_monthly");
    await flushWebhooks(env.emulator);

    const events = verified(receiver, secret);
    const types = events.map((event) => event.type);
    expect(types).toEqual([
      "customer.created",
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.paid",
    ]);
    const created = events[2] as Stripe.CustomerSubscriptionCreatedEvent;
    expect(created.data.object.id).toBe(subscription.id);
    expect(created).toMatchObject({ api_version: "2026-11-18.endive", livemode: false });
    expect(created.data.object.items.data[0]?.current_period_end).toBeGreaterThan(0);
  });

  test("a signature made with another secret is rejected by constructEvent", async () => {
    const receiver = await startWebhookReceiver();
    await register(receiver);

    await env.stripe.customers.create({ email: "sig@example.com" });
    await flushWebhooks(env.emulator);

    const [delivery] = receiver.received;
    expect(() =>
      env.stripe.webhooks.constructEvent(
        delivery?.body ?? "",
        delivery?.signature ?? "",
        "whsec_wrong",
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  test("retries a delivery that got a 500 until it succeeds", async () => {
    const receiver = await startWebhookReceiver((_delivery, index) =>
      index === 0 ? 500 : 200,
    );
    const secret = await register(receiver, ["customer.created"]);

    const customer = await env.stripe.customers.create({ email: "retry@example.com" });
    await flushWebhooks(env.emulator);

    const ids = verified(receiver, secret).map((event) => event.data.object);
    expect(ids).toHaveLength(2);
    expect(ids.every((object) => (object as Stripe.Customer).id === customer.id)).toBe(
      true,
    );
    const event = (await emulatorEvents(env.emulator)).find(
      (e) => e.object_id === customer.id,
    );
    expect(event?.deliveries[0]).toMatchObject({ state: "succeeded" });
    expect(event?.deliveries[0]?.attempts.map((attempt) => attempt.status)).toEqual([
      500, 200,
    ]);
    expect((await env.stripe.events.retrieve(event?.id ?? "")).pending_webhooks).toBe(0);
  });

  test("gives up after the last retry and marks the delivery failed", async () => {
    const receiver = await startWebhookReceiver(() => 503);
    await register(receiver, ["customer.created"]);

    const customer = await env.stripe.customers.create({ email: "down@example.com" });
    await flushWebhooks(env.emulator);

    expect(receiver.received).toHaveLength(3);
    const event = (await emulatorEvents(env.emulator)).find(
      (e) => e.object_id === customer.id,
    );
    expect(event?.deliveries[0]?.state).toBe("failed");
    expect((await env.stripe.events.retrieve(event?.id ?? "")).pending_webhooks).toBe(1);
  });

  test("sends an endpoint only the event types it enabled", async () => {
    const receiver = await startWebhookReceiver();
    const secret = await register(receiver, ["customer.subscription.created"]);

    await subscribe(env.stripe, "spark_monthly");
    await flushWebhooks(env.emulator);

    expect(verified(receiver, secret).map((event) => event.type)).toEqual([
      "customer.subscription.created",
    ]);
  });

  test("a deleted endpoint receives nothing more", async () => {
    const receiver = await startWebhookReceiver();
    await register(receiver);
    const id = endpoints.pop() ?? "";
    const deleted = await env.stripe.webhookEndpoints.del(id);

    await env.stripe.customers.create({ email: "quiet@example.com" });
    await flushWebhooks(env.emulator);

    expect(deleted).toEqual({ id, object: "webhook_endpoint", deleted: true });
    expect(receiver.received).toHaveLength(0);
    const listed = await env.stripe.webhookEndpoints.list();
    expect(listed.data.map((endpoint) => endpoint.id)).not.toContain(id);
  });

  test("a product update carries previous_attributes", async () => {
    const receiver = await startWebhookReceiver();
    const secret = await register(receiver, ["product.updated"]);
    const products = await env.stripe.products.list({ limit: 100 });
    const spark = products.data.find((product) => product.metadata.tier === "spark");

    await env.stripe.products.update(spark?.id ?? "", { name: "Spark Stacker Plus" });
    await flushWebhooks(env.emulator);

    const [event] = verified(receiver, secret) as Stripe.ProductUpdatedEvent[];
    expect(event?.data.object.name).toBe("Spark Stacker Plus");
    expect(event?.data.previous_attributes?.name).toBe("Spark Stacker");
  });
});

describe("webhook endpoints", () => {
  test("an update changes url, events, description, metadata and disabled", async () => {
    const first = await startWebhookReceiver();
    const second = await startWebhookReceiver();
    receivers.push(first, second);
    const created = await env.stripe.webhookEndpoints.create({
      url: first.url,
      enabled_events: ["product.updated"],
      description: "before",
      metadata: { keep: "yes", drop: "me" },
    });
    endpoints.push(created.id);

    const moved = await env.stripe.webhookEndpoints.update(created.id, {
      url: second.url,
      enabled_events: ["customer.created"],
      description: "after",
      metadata: { drop: "", added: "1" },
    });
    await env.stripe.customers.create({ email: "moved@example.com" });
    await flushWebhooks(env.emulator);
    const disabled = await env.stripe.webhookEndpoints.update(created.id, {
      disabled: true,
    });
    await env.stripe.customers.create({ email: "unheard@example.com" });
    await flushWebhooks(env.emulator);

    expect(moved).toMatchObject({
      url: second.url,
      enabled_events: ["customer.created"],
      description: "after",
      metadata: { keep: "yes", added: "1" },
      status: "enabled",
    });
    expect(disabled.status).toBe("disabled");
    expect(first.received).toHaveLength(0);
    expect(second.received).toHaveLength(1);
  });

  test("only create shows the signing secret", async () => {
    const receiver = await startWebhookReceiver();
    const secret = await register(receiver);
    const id = endpoints.at(-1) ?? "";

    const retrieved = await env.stripe.webhookEndpoints.retrieve(id);
    const listed = await env.stripe.webhookEndpoints.list();
    const updated = await env.stripe.webhookEndpoints.update(id, { description: "x" });

    expect(secret).toMatch(/^whsec_/);
    expect(retrieved).not.toHaveProperty("secret");
    expect(updated).not.toHaveProperty("secret");
    expect(listed.data.every((endpoint) => !("secret" in endpoint))).toBe(true);
  });
});
