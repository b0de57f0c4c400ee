import type Stripe from "stripe";
import { describe, expect, test } from "vitest";
import {
  advanceClock,
  advanceClockPast,
  control,
  seededPrice,
  submitCardUpdate,
  submitCheckoutForm,
  submitForm,
  subscribe,
  useStripeEmulator,
} from "./support/stripe.ts";

/*
 * Subscriptions over time on the test clock: trials, subscriptions created
 * through the API, renewals charged to a card that fails, the retries 3, 5
 * and 7 days after the first failure, and scheduled cancellations.
 */

const env = useStripeEmulator();

const DAY = 86_400;
const DECLINING_CARD = "4000000000000341";
const AUTHENTICATION_CARD = "4000002760003184";

async function newCustomer(card?: string): Promise<Stripe.Customer> {
  const customer = await env.stripe.customers.create({
    email: `clock.${Date.now()}.${Math.random()}@example.com`,
  });
  if (card) await setCard(customer.id, card);
  return customer;
}

async function setCard(customerId: string, number: string): Promise<void> {
  const { status, body } = await control(env.emulator, `customers/${customerId}/card`, {
    number,
  });
  expect(status, JSON.stringify(body)).toBe(200);
}

async function createSubscription(
  customer: string,
  extra: Partial<Stripe.SubscriptionCreateParams> = {},
): Promise<Stripe.Subscription> {
  const price = await seededPrice(env.stripe, "core_monthly");
  return env.stripe.subscriptions.create({
    customer,
    items: [{ price: price.id }],
    ...extra,
  });
}

function periodEndOf(sub: Stripe.Subscription): number {
  return sub.items.data[0]?.current_period_end ?? 0;
}

/** The events about one object, oldest first. */
async function eventsAbout(objectId: string): Promise<Stripe.Event[]> {
  const events = await env.stripe.events.list({ limit: 100 });
  return events.data
    .filter((event) => (event.data.object as { id?: string }).id === objectId)
    .reverse();
}

async function invoiceEvents(subscriptionId: string): Promise<Stripe.Event[]> {
  const events = await env.stripe.events.list({ type: "invoice.*", limit: 100 });
  return events.data
    .filter((event) => {
      const invoice = event.data.object as Stripe.Invoice;
      return invoice.parent?.subscription_details?.subscription === subscriptionId;
    })
    .reverse();
}

describe("subscriptions created through the API", () => {
  test("with a trial: trialing, a $0 invoice and the events Checkout sends", async () => {
    const customer = await newCustomer();
    const sub = await createSubscription(customer.id, {
      trial_period_days: 14,
      metadata: { user_id: "u-1" },
    });

    expect(sub).toMatchObject({ status: "trialing", metadata: { user_id: "u-1" } });
    expect((sub.trial_end ?? 0) - (sub.trial_start ?? 0)).toBe(14 * DAY);
    expect(sub.items.data[0]?.current_period_end).toBe(sub.trial_end);
    const invoice = await env.stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(invoice).toMatchObject({ status: "paid", amount_due: 0 });
    expect((await eventsAbout(sub.id)).map((e) => e.type)).toEqual([
      "customer.subscription.created",
    ]);
    expect((await invoiceEvents(sub.id)).map((e) => e.type)).toEqual(["invoice.paid"]);
  });

  test("without a trial it charges the card on file", async () => {
    const customer = await newCustomer();
    const sub = await createSubscription(customer.id);

    const invoice = await env.stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(sub.status).toBe("active");
    expect(invoice).toMatchObject({ status: "paid", amount_paid: 1200 });
  });

  test("a declined first charge leaves it incomplete with an open invoice", async () => {
    const customer = await newCustomer(DECLINING_CARD);
    const sub = await createSubscription(customer.id);

    const invoice = await env.stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(sub.status).toBe("incomplete");
    expect(invoice).toMatchObject({ status: "open", attempt_count: 1 });
    expect(invoice.next_payment_attempt).toBeNull();
    expect((await invoiceEvents(sub.id)).map((e) => e.type)).toEqual([
      "invoice.payment_failed",
    ]);
  });

  test("trial_end, cancel_at_period_end and bad parameters", async () => {
    const customer = await newCustomer();
    const now = customer.created;
    const sub = await createSubscription(customer.id, {
      trial_end: now + 5 * DAY,
      cancel_at_period_end: true,
    });
    const both = createSubscription(customer.id, {
      trial_end: now + 5 * DAY,
      trial_period_days: 3,
    });
    const past = createSubscription(customer.id, { cancel_at: now - DAY });

    expect(sub).toMatchObject({
      status: "trialing",
      trial_end: now + 5 * DAY,
      cancel_at_period_end: true,
      cancel_at: now + 5 * DAY,
    });
    await expect(both).rejects.toMatchObject({ statusCode: 400, param: "trial_end" });
    await expect(past).rejects.toMatchObject({ statusCode: 400, param: "cancel_at" });
  });
});

describe("trials on the clock", () => {
  test("trial_will_end three days before, then the first charge makes it active", async () => {
    const customer = await newCustomer();
    const sub = await createSubscription(customer.id, { trial_period_days: 14 });

    await advanceClock(env.emulator, 11);
    const notices = (await eventsAbout(sub.id)).filter(
      (e) => e.type === "customer.subscription.trial_will_end",
    );
    const during = await env.stripe.subscriptions.retrieve(sub.id);
    await advanceClock(env.emulator, 4);
    const after = await env.stripe.subscriptions.retrieve(sub.id);

    expect(notices.map((e) => e.created)).toEqual([(sub.trial_end ?? 0) - 3 * DAY]);
    expect(during.status).toBe("trialing");
    expect(after.status).toBe("active");
    const paid = (await invoiceEvents(sub.id)).at(-1);
    expect(paid?.type).toBe("invoice.paid");
    expect((paid?.data.object as Stripe.Invoice | undefined)?.amount_paid).toBe(1200);
  });

  test("a failed charge at trial end makes it past_due", async () => {
    const customer = await newCustomer(DECLINING_CARD);
    const sub = await createSubscription(customer.id, { trial_period_days: 7 });

    await advanceClock(env.emulator, 8);

    expect((await env.stripe.subscriptions.retrieve(sub.id)).status).toBe("past_due");
    expect((await invoiceEvents(sub.id)).map((e) => e.type)).toEqual([
      "invoice.paid",
      "invoice.payment_failed",
    ]);
  });
});

describe("failed renewals", () => {
  test("are retried 3, 5 and 7 days after the first failure, then the subscription is unpaid", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    await setCard(customer.id, DECLINING_CARD);
    const periodEnd = periodEndOf(subscription);

    await advanceClockPast(env.emulator, periodEnd);
    const pastDue = await env.stripe.subscriptions.retrieve(subscription.id);
    for (const days of [3, 2, 2]) await advanceClock(env.emulator, days);
    const unpaid = await env.stripe.subscriptions.retrieve(subscription.id);

    expect(pastDue.status).toBe("past_due");
    expect(unpaid.status).toBe("unpaid");
    const failures = (await invoiceEvents(subscription.id)).filter(
      (e) => e.type === "invoice.payment_failed",
    );
    const invoices = failures.map((e) => e.data.object as Stripe.Invoice);
    expect(new Set(invoices.map((i) => i.id)).size).toBe(1);
    expect(invoices.map((i) => i.attempt_count)).toEqual([1, 2, 3, 4]);
    expect(failures.map((e) => (e.created - periodEnd) / DAY)).toEqual([0, 3, 5, 7]);
    expect(invoices.map((i) => i.next_payment_attempt)).toEqual([
      periodEnd + 3 * DAY,
      periodEnd + 5 * DAY,
      periodEnd + 7 * DAY,
      null,
    ]);
    const open = await env.stripe.invoices.retrieve(invoices[0]?.id ?? "");
    expect(open).toMatchObject({ status: "open", attempt_count: 4 });
    const statuses = (await eventsAbout(subscription.id))
      .filter((e) => e.type === "customer.subscription.updated")
      .map((e) => (e.data.object as Stripe.Subscription).status);
    expect(statuses).toEqual(["past_due", "unpaid"]);
  });

  test("a card needing authentication asks for action and leaves it past_due", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    await setCard(customer.id, AUTHENTICATION_CARD);

    await advanceClockPast(env.emulator, periodEndOf(subscription));

    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "past_due",
    );
    expect((await invoiceEvents(subscription.id)).map((e) => e.type)).toEqual([
      "invoice.paid",
      "invoice.payment_action_required",
      "invoice.payment_failed",
    ]);
  });

  test("a card paid with at Checkout stays on file for renewals", async () => {
    const customer = await newCustomer();
    const price = await seededPrice(env.stripe, "spark_monthly");
    const session = await env.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "http://site.test/ok",
    });
    const paid = await submitCheckoutForm(session.url ?? "", {
      card_number: "4000 0027 6000 3184",
    });
    const done = await env.stripe.checkout.sessions.retrieve(session.id);
    const sub = await env.stripe.subscriptions.retrieve(String(done.subscription));

    await advanceClockPast(env.emulator, periodEndOf(sub));

    expect(paid.status).toBe(303);
    expect(sub.status).toBe("active");
    const after = await env.stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe("past_due");
  });

  test("after the card is changed to a good one, the next retry pays", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    await setCard(customer.id, DECLINING_CARD);
    await advanceClockPast(env.emulator, periodEndOf(subscription));

    await setCard(customer.id, "4242 4242 4242 4242");
    await advanceClock(env.emulator, 3);

    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe("active");
    const last = (await invoiceEvents(subscription.id)).at(-1);
    expect(last?.type).toBe("invoice.paid");
    expect(last?.data.object).toMatchObject({ status: "paid", attempt_count: 2 });
  });

  test("an unpaid subscription is paid in the portal once a good card is on file", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    await setCard(customer.id, DECLINING_CARD);
    await advanceClockPast(env.emulator, periodEndOf(subscription) + 7 * DAY);
    const portal = await env.stripe.billingPortal.sessions.create({
      customer: customer.id,
    });

    const unpaid = await env.stripe.subscriptions.retrieve(subscription.id);
    const page = await (await fetch(portal.url)).text();
    const declined = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/pay`,
    );
    const stillUnpaid = await env.stripe.subscriptions.retrieve(subscription.id);
    const updated = await submitCardUpdate(portal.url, {
      card_number: "4242 4242 4242 4242",
    });

    expect(unpaid.status).toBe("unpaid");
    expect(page).toContain(`pay-${subscription.id}`);
    expect(declined.status).toBe(402);
    expect(stillUnpaid.status).toBe("unpaid");
    expect(updated.status).toBe(303);
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "active",
    );
  });

  test("the card control refuses a card that cannot be saved", async () => {
    const customer = await newCustomer();
    const declined = await control(env.emulator, `customers/${customer.id}/card`, {
      number: "4000000000000002",
    });
    const nobody = await control(env.emulator, "customers/cus_nobody/card", {
      number: "4242424242424242",
    });

    expect(declined.status).toBe(402);
    expect(nobody.status).toBe(404);
  });
});

describe("scheduled cancellations", () => {
  test("a cancel_at date set by update ends the subscription when the clock passes it", async () => {
    const { subscription } = await subscribe(env.stripe, "core_monthly");
    const start = subscription.items.data[0]?.current_period_start ?? 0;
    const cancelAt = start + 10 * DAY;
    const scheduled = await env.stripe.subscriptions.update(subscription.id, {
      cancel_at: cancelAt,
    });

    await advanceClock(env.emulator, 9);
    const before = await env.stripe.subscriptions.retrieve(subscription.id);
    await advanceClock(env.emulator, 2);
    const after = await env.stripe.subscriptions.retrieve(subscription.id);

    expect(scheduled).toMatchObject({ cancel_at: cancelAt, cancel_at_period_end: false });
    expect(before.status).toBe("active");
    expect(after).toMatchObject({ status: "canceled", ended_at: cancelAt });
    const last = (await eventsAbout(subscription.id)).at(-1);
    expect(last?.type).toBe("customer.subscription.deleted");
    expect(last?.created).toBe(cancelAt);
  });

  test("a subscription created to cancel at period end ends then", async () => {
    const customer = await newCustomer();
    const sub = await createSubscription(customer.id, { cancel_at_period_end: true });

    await advanceClockPast(env.emulator, periodEndOf(sub));

    const after = await env.stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({
      status: "canceled",
      ended_at: sub.items.data[0]?.current_period_end,
    });
  });
});
