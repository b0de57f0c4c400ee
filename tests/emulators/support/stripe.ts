import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll } from "vitest";
import {
  type StripeEmulator,
  type StripeEmulatorOptions,
  startStripeEmulator,
} from "../../../emulators/stripe/index.ts";

/** The official SDK, pointed at an emulator the way the server points it. */
export function stripeFor(emulator: StripeEmulator): Stripe {
  const url = new URL(emulator.url);
  return new Stripe("sk_test_emulator_tests", {
    host: url.hostname,
    port: Number(url.port),
    protocol: "http",
    maxNetworkRetries: 0,
  });
}

export interface EmulatorUnderTest {
  readonly emulator: StripeEmulator;
  readonly stripe: Stripe;
}

/**
 * Starts an emulator before the file's tests and closes it after them. The
 * fields are read inside tests and hooks, once the emulator is running.
 */
export function useStripeEmulator(
  options: StripeEmulatorOptions = {},
): EmulatorUnderTest {
  let running: EmulatorUnderTest | undefined;
  beforeAll(async () => {
    const emulator = await startStripeEmulator(options);
    running = { emulator, stripe: stripeFor(emulator) };
  });
  afterAll(async () => {
    await running?.emulator.close();
  });

  const current = (): EmulatorUnderTest => {
    if (!running) throw new Error("The Stripe emulator is not running yet");
    return running;
  };
  return {
    get emulator() {
      return current().emulator;
    },
    get stripe() {
      return current().stripe;
    },
  };
}

/** Posts JSON to a control route and returns the parsed answer. */
export async function control<T = Record<string, unknown>>(
  emulator: StripeEmulator,
  path: string,
  body: unknown = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Moves the emulator's test clock forward. */
export async function advanceClock(
  emulator: StripeEmulator,
  days: number,
): Promise<void> {
  const { status, body } = await control(emulator, "clock/advance", { days });
  if (status !== 200) throw new Error(`The clock did not move: ${JSON.stringify(body)}`);
}

/** Moves the test clock to an hour after `time` (a Unix time). */
export async function advanceClockPast(
  emulator: StripeEmulator,
  time: number,
): Promise<void> {
  const clock = (await (await fetch(`${emulator.url}/_emulator/clock`)).json()) as {
    now: number;
  };
  const seconds = time + 3600 - clock.now;
  const { status, body } = await control(emulator, "clock/advance", { seconds });
  if (status !== 200) throw new Error(`The clock did not move: ${JSON.stringify(body)}`);
}

/**
 * A request without the SDK, for the wire format itself: the SDK turns decimal
 * strings into objects, and contract tests need the JSON as sent.
 */
export async function callApi(
  emulator: StripeEmulator,
  method: "GET" | "POST" | "DELETE",
  path: string,
  form?: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: {
      Authorization: "Bearer sk_test_emulator_tests",
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  };
}

export interface CardFields {
  card_number: string;
  card_expiry?: string;
  card_cvc?: string;
  email?: string;
}

/** Submits the hosted Checkout form as a browser would, without following the redirect. */
export function submitCheckoutForm(pageUrl: string, card: CardFields): Promise<Response> {
  return fetch(pageUrl, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ card_expiry: "12 / 34", card_cvc: "123", ...card }),
  });
}

/** Posts a form on a hosted page (portal buttons), without following the redirect. */
export function submitForm(
  url: string,
  fields: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

/** Submits the portal's "Update card" form as a browser would, without following the redirect. */
export function submitCardUpdate(portalUrl: string, card: CardFields): Promise<Response> {
  return submitForm(`${portalUrl}/card`, {
    card_expiry: "12 / 34",
    card_cvc: "123",
    ...card,
  });
}

/** A recurring price of the seeded catalog, found by its lookup key. */
export async function seededPrice(
  stripe: Stripe,
  lookupKey: string,
): Promise<Stripe.Price> {
  const prices = await stripe.prices.list({ lookup_keys: [lookupKey] });
  const price = prices.data[0];
  if (!price) throw new Error(`The seeded catalog has no price ${lookupKey}`);
  return price;
}

/** Runs Checkout to the end for a new customer and returns the subscription. */
export async function subscribe(
  stripe: Stripe,
  lookupKey: string,
  email = `reader.${Date.now()}@example.com`,
): Promise<{ customer: Stripe.Customer; subscription: Stripe.Subscription }> {
  const customer = await stripe.customers.create({ email });
  const price = await seededPrice(stripe, lookupKey);
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://site.test/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://site.test/pricing",
  });
  const paid = await submitCheckoutForm(session.url ?? "", {
    card_number: "4242424242424242",
  });
  if (paid.status !== 303) throw new Error(`Checkout answered ${paid.status}`);

  const done = await stripe.checkout.sessions.retrieve(session.id);
  const subscription = await stripe.subscriptions.retrieve(String(done.subscription));
  return { customer, subscription };
}

export interface ReceivedWebhook {
  body: string;
  signature: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for the site's webhook route. `respond`
 * picks the status for each delivery (200 unless told otherwise).
 */
export async function startWebhookReceiver(
  respond: (delivery: ReceivedWebhook, index: number) => number = () => 200,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const delivery = {
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(request.headers["stripe-signature"] ?? ""),
      };
      received.push(delivery);
      response.statusCode = respond(delivery, received.length - 1);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Waits until every webhook delivery has settled (retries included). */
export async function flushWebhooks(emulator: StripeEmulator): Promise<void> {
  const response = await fetch(`${emulator.url}/_emulator/flush?timeout_ms=10000`, {
    method: "POST",
  });
  const result = (await response.json()) as { settled: boolean; pending: number };
  if (!result.settled) {
    throw new Error(`${result.pending} webhook deliveries still pending`);
  }
}

export interface EmulatorEvent {
  id: string;
  type: string;
  created: number;
  object_id: string | null;
  deliveries: { url: string; state: string; attempts: { status: number | null }[] }[];
}

export async function emulatorEvents(emulator: StripeEmulator): Promise<EmulatorEvent[]> {
  const response = await fetch(`${emulator.url}/_emulator/events`);
  return (await response.json()) as EmulatorEvent[];
}
