import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The billing emails, end to end: a reader pays, changes plan, cancels or
 * stops paying in the Stripe emulator; the webhooks and the Checkout return
 * sync the subscription; the server's outbox delivers to the Resend emulator.
 * Each transition sends one email, however many times it is synced.
 */

const FAILING_CARD = "4000000000000341";

let stack: Stack;
let billing: Billing;

beforeAll(async () => {
  stack = await startStack({ env: { EMAIL_POLL_MS: "100" } });
  billing = billingFor(stack);
});

afterAll(async () => {
  await stack?.stop();
});

interface Queued {
  template: string;
  idempotency_key: string;
  status: string;
  data: string;
}

/** The billing emails queued for a reader, oldest first. */
function billingEmailsTo(reader: Reader): Queued[] {
  return billing
    .query<Queued>(
      `SELECT template, idempotency_key, status, data FROM outbox
        WHERE to_address = ? ORDER BY id`,
      reader.email,
    )
    .filter((email) => !["welcome", "verify-email"].includes(email.template));
}

const templatesTo = (reader: Reader) => billingEmailsTo(reader).map((e) => e.template);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Waits until every email queued for the reader has reached Resend. */
async function allSent(reader: Reader): Promise<void> {
  await waitFor(
    () => billingEmailsTo(reader).every((email) => email.status === "sent"),
    `the emails to ${reader.email}`,
  );
}

/** Subjects of what reached the Resend emulator for the reader, under billing keys. */
function subjectsTo(reader: Reader): string[] {
  const keys = new Set(billingEmailsTo(reader).map((email) => email.idempotency_key));
  return stack.resendEmulator
    .emails()
    .filter((email) => keys.has(email.idempotency_key ?? ""))
    .map((email) => email.subject);
}

async function advanceDays(days: number): Promise<void> {
  await billing.emulator.advanceDays(days);
  await stack.flushWebhooks();
}

async function subscribed(tier: string): Promise<Reader> {
  const reader = await stack.signUp();
  await billing.subscribe(reader, await billing.priceOf(tier));
  await stack.flushWebhooks();
  expect(await billing.tierOnMe(reader)).toBe(tier);
  return reader;
}

/** Sends every event about the reader's customer to the webhook again. */
async function redeliverEverything(reader: Reader): Promise<void> {
  const customer = billing.customerOf(reader);
  const response = await fetch(`${stack.stripeUrl}/_emulator/events`);
  const events = (await response.json()) as {
    id: string;
    type: string;
    object_id: string | null;
  }[];
  const subscriptions = await stack.stripe.subscriptions.list({
    customer,
    status: "all",
  });
  const ids = new Set([customer, ...subscriptions.data.map((s) => s.id)]);
  const invoices = await stack.stripe.invoices.list({ customer });
  for (const invoice of invoices.data) if (invoice.id) ids.add(invoice.id);

  // Events of types the endpoint does not listen to are not delivered at all.
  const statuses: (number | null)[] = [];
  for (const event of events.filter((e) => ids.has(e.object_id ?? ""))) {
    const deliveries = await billing.emulator.redeliver(event.id);
    statuses.push(...deliveries.map((delivery) => delivery.status));
  }
  expect(statuses.length).toBeGreaterThan(1);
  expect(new Set(statuses)).toEqual(new Set([200]));
}

describe("billing emails", () => {
  it("announce a new subscription once, though the return and every webhook sync it", async () => {
    const reader = await subscribed("core");
    await allSent(reader);

    await redeliverEverything(reader);
    await stack.flushWebhooks();
    await allSent(reader);

    expect(templatesTo(reader)).toEqual(["subscription-started"]);
    expect(subjectsTo(reader)).toEqual(["Your Core Stacker subscription has started"]);
    const [arrived] = stack.resendEmulator
      .emails()
      .filter(
        (email) => email.subject.includes("has started") && email.to[0] === reader.email,
      );
    expect(arrived?.text).toContain(`${stack.baseUrl}/account/`);
    expect(arrived?.html).toContain(`href="${stack.baseUrl}/"`);
  });

  it("announce a plan change, a scheduled cancellation and the end, one email each", async () => {
    const reader = await subscribed("spark");

    await billing.inPortal(reader, "switch", {
      price: await billing.priceOf("lightning"),
    });
    await stack.flushWebhooks();
    await billing.inPortal(reader, "cancel");
    await stack.flushWebhooks();
    await advanceDays(31);
    await redeliverEverything(reader);
    await stack.flushWebhooks();
    await allSent(reader);

    expect(templatesTo(reader)).toEqual([
      "subscription-started",
      "plan-changed",
      "cancellation-scheduled",
      "subscription-ended",
    ]);
    expect(JSON.parse(billingEmailsTo(reader)[1]?.data ?? "{}")).toEqual({
      fromTierName: "Spark Stacker",
      toTierName: "Lightning Stacker",
    });
    expect(subjectsTo(reader)).toEqual([
      "Your Spark Stacker subscription has started",
      "Your plan is now Lightning Stacker",
      expect.stringMatching(
        /^Your Lightning Stacker subscription ends on \d+ \w+ \d{4}$/,
      ),
      "Your Lightning Stacker subscription has ended",
    ]);
  });

  it("announce a failed renewal once, through every retry, and then the pause", async () => {
    const reader = await subscribed("core");
    await billing.emulator.setCard(billing.customerOf(reader), FAILING_CARD);

    await advanceDays(31);
    expect((await billing.me(reader)).subscription?.status).toBe("past_due");
    await advanceDays(3);
    await advanceDays(2);
    await redeliverEverything(reader);
    await stack.flushWebhooks();
    expect(templatesTo(reader)).toEqual(["subscription-started", "payment-failed"]);

    await advanceDays(2);
    expect((await billing.me(reader)).subscription?.status).toBe("unpaid");
    await allSent(reader);

    const emails = billingEmailsTo(reader);
    expect(emails.map((email) => email.template)).toEqual([
      "subscription-started",
      "payment-failed",
      "subscription-ended",
    ]);
    const { latest_invoice } = await billing.stripeSubscription(reader);
    expect(emails[1]?.idempotency_key).toBe(`payment-failed:${latest_invoice}`);
    expect(JSON.parse(emails[2]?.data ?? "{}")).toEqual({
      tierName: "Core Stacker",
      reason: "unpaid",
    });
    expect(subjectsTo(reader)).toEqual([
      "Your Core Stacker subscription has started",
      "Your payment for Core Stacker did not go through",
      "Your Core Stacker subscription is paused",
    ]);
  });
});
