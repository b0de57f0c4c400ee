import type Stripe from "stripe";
import { describe, expect, test } from "vitest";
import {
  advanceClock,
  advanceClockPast,
  control,
  emulatorEvents,
  submitCardUpdate,
  submitForm,
  subscribe,
  useStripeEmulator,
} from "./support/stripe.ts";

/*
 * The billing portal's payment method: a reader whose renewal failed fixes
 * the card in "Manage billing", and the overdue invoice is paid with it.
 */

const env = useStripeEmulator();

const DECLINING_CARD = "4000000000000341";
const REFUSED_CARD = "4000 0000 0000 0002";
const GOOD_CARD = "4242 4242 4242 4242";

interface PastDue {
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
  portal: Stripe.BillingPortal.Session;
}

/** A subscriber whose renewal was declined, with a portal session open. */
async function pastDueSubscriber(): Promise<PastDue> {
  const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
  const card = await control(env.emulator, `customers/${customer.id}/card`, {
    number: DECLINING_CARD,
  });
  expect(card.status).toBe(200);
  await advanceClockPast(
    env.emulator,
    subscription.items.data[0]?.current_period_end ?? 0,
  );

  const after = await env.stripe.subscriptions.retrieve(subscription.id);
  expect(after.status).toBe("past_due");
  const invoice = await env.stripe.invoices.retrieve(String(after.latest_invoice));
  const portal = await env.stripe.billingPortal.sessions.create({
    customer: customer.id,
  });
  return { customer, subscription: after, invoice, portal };
}

/** The types of the events about one object, oldest first. */
async function eventTypesAbout(objectId: string): Promise<string[]> {
  return (await emulatorEvents(env.emulator))
    .filter((event) => event.object_id === objectId)
    .map((event) => event.type);
}

async function customerUpdates(customerId: string): Promise<Stripe.Event[]> {
  const events = await env.stripe.events.list({ type: "customer.updated", limit: 100 });
  return events.data.filter(
    (event) => (event.data.object as Stripe.Customer).id === customerId,
  );
}

describe("updating the card in the billing portal", () => {
  test("the portal page offers the card form and names the card on file", async () => {
    const { portal } = await pastDueSubscriber();

    const page = await (await fetch(portal.url)).text();

    expect(page).toContain(`action="/p/session/${portal.id}/card"`);
    expect(page).toContain('name="card_number"');
    expect(page).toContain('name="card_expiry"');
    expect(page).toContain('name="card_cvc"');
    expect(page).toContain('<span id="card-last-four">0341</span>');
    expect(page).toContain("Pay now with card ending 0341");
  });

  test("a good card recovers a past_due subscription at once", async () => {
    const { customer, subscription, invoice, portal } = await pastDueSubscriber();

    const response = await submitCardUpdate(portal.url, { card_number: GOOD_CARD });

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `/p/session/${portal.id}?done=card_paid`,
    );
    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe("active");
    const paid = await env.stripe.invoices.retrieve(invoice.id);
    expect(paid).toMatchObject({ status: "paid", attempt_count: 2 });
    expect(paid.next_payment_attempt).toBeNull();
    expect((await eventTypesAbout(invoice.id)).at(-1)).toBe("invoice.paid");
    const update = (await eventTypesAbout(subscription.id)).at(-1);
    expect(update).toBe("customer.subscription.updated");

    const [customerUpdate] = await customerUpdates(customer.id);
    const updated = customerUpdate?.data.object as Stripe.Customer;
    expect(updated.invoice_settings.default_payment_method).toMatch(/^pm_/);
    expect(customerUpdate?.data.previous_attributes).toEqual({
      invoice_settings: { default_payment_method: null },
    });
  });

  test("the new card stays on file for the next renewal", async () => {
    const { subscription, portal } = await pastDueSubscriber();
    await submitCardUpdate(portal.url, { card_number: GOOD_CARD });

    await advanceClock(env.emulator, 31);

    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe("active");
    const latest = await env.stripe.invoices.retrieve(String(after.latest_invoice));
    expect(latest).toMatchObject({
      billing_reason: "subscription_cycle",
      status: "paid",
    });
    const page = await (await fetch(portal.url)).text();
    expect(page).toContain('<span id="card-last-four">4242</span>');
  });

  test("a declined card is refused on the page and nothing changes", async () => {
    const { customer, subscription, invoice, portal } = await pastDueSubscriber();
    const eventsBefore = (await emulatorEvents(env.emulator)).length;

    const response = await submitCardUpdate(portal.url, { card_number: REFUSED_CARD });
    const page = await response.text();

    expect(response.status).toBe(402);
    expect(page).toContain("Your card was declined.");
    expect(page).toContain(`value="${REFUSED_CARD}"`);
    expect(page).toContain('<span id="card-last-four">0341</span>');
    expect((await emulatorEvents(env.emulator)).length).toBe(eventsBefore);
    expect(await customerUpdates(customer.id)).toHaveLength(0);
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "past_due",
    );
    expect(await env.stripe.invoices.retrieve(invoice.id)).toMatchObject({
      status: "open",
      attempt_count: 1,
    });
  });

  test("a mistyped card is refused with the field's problem", async () => {
    const { portal } = await pastDueSubscriber();

    const badNumber = await submitCardUpdate(portal.url, {
      card_number: "4242 4242 4242 4241",
    });
    const expired = await submitCardUpdate(portal.url, {
      card_number: GOOD_CARD,
      card_expiry: "01 / 20",
    });

    expect(badNumber.status).toBe(402);
    expect(await badNumber.text()).toContain("Your card number is incorrect.");
    expect(expired.status).toBe(402);
    expect(await expired.text()).toContain("expiration date is in the past");
  });

  test("a card that is saved but declined when charged fails the overdue payment", async () => {
    const { customer, subscription, invoice, portal } = await pastDueSubscriber();

    const response = await submitCardUpdate(portal.url, {
      card_number: "4000 0000 0000 0341",
    });

    expect(response.status).toBe(402);
    expect(await response.text()).toContain(
      "Your card was saved, but the payment failed: Your card was declined.",
    );
    expect(await customerUpdates(customer.id)).toHaveLength(1);
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "past_due",
    );
    const open = await env.stripe.invoices.retrieve(invoice.id);
    expect(open).toMatchObject({ status: "open", attempt_count: 2 });
    expect(open.next_payment_attempt).toBe(invoice.next_payment_attempt);
    expect((await eventTypesAbout(invoice.id)).at(-1)).toBe("invoice.payment_failed");
  });

  test("on an active subscription the card is only saved", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    const portal = await env.stripe.billingPortal.sessions.create({
      customer: customer.id,
    });
    const invoicesBefore = await eventTypesAbout(String(subscription.latest_invoice));

    const response = await submitCardUpdate(portal.url, {
      card_number: "4000 0027 6000 3184",
    });

    expect(response.headers.get("location")).toBe(
      `/p/session/${portal.id}?done=card_updated`,
    );
    const page = await (await fetch(`${portal.url}?done=card_updated`)).text();
    expect(page).toContain("Your card has been updated.");
    expect(page).toContain('<span id="card-last-four">3184</span>');
    expect(await customerUpdates(customer.id)).toHaveLength(1);
    expect(await eventTypesAbout(String(subscription.latest_invoice))).toEqual(
      invoicesBefore,
    );
  });

  test("another customer's portal session cannot update this customer's card", async () => {
    const victim = await pastDueSubscriber();
    const { customer: other } = await subscribe(env.stripe, "spark_monthly");
    const otherPortal = await env.stripe.billingPortal.sessions.create({
      customer: other.id,
    });

    const response = await submitForm(`${otherPortal.url}/card`, {
      card_number: GOOD_CARD,
      card_expiry: "12 / 34",
      card_cvc: "123",
      customer: victim.customer.id,
    });
    const victimPage = await (await fetch(victim.portal.url)).text();

    expect(response.status).toBe(303);
    expect(await customerUpdates(other.id)).toHaveLength(1);
    expect(await customerUpdates(victim.customer.id)).toHaveLength(0);
    expect(victimPage).toContain('<span id="card-last-four">0341</span>');
    expect((await env.stripe.subscriptions.retrieve(victim.subscription.id)).status).toBe(
      "past_due",
    );
    expect(await env.stripe.invoices.retrieve(victim.invoice.id)).toMatchObject({
      status: "open",
      attempt_count: 1,
    });
  });
});

describe("Pay now in the billing portal", () => {
  test("charges the card on file and shows the decline when it fails", async () => {
    const { subscription, invoice, portal } = await pastDueSubscriber();

    const response = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/pay`,
    );

    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card was declined.");
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "past_due",
    );
    const open = await env.stripe.invoices.retrieve(invoice.id);
    expect(open).toMatchObject({ status: "open", attempt_count: 2 });
    expect(open.next_payment_attempt).toBe(invoice.next_payment_attempt);
    expect((await eventTypesAbout(invoice.id)).at(-1)).toBe("invoice.payment_failed");
  });

  test("a declined Pay now leaves the scheduled retries as they were", async () => {
    const { subscription, invoice, portal } = await pastDueSubscriber();
    await submitForm(`${portal.url}/subscriptions/${subscription.id}/pay`);

    await advanceClock(env.emulator, 3);

    const retried = await env.stripe.invoices.retrieve(invoice.id);
    expect(retried.attempt_count).toBe(3);
    expect(retried.next_payment_attempt).toBe(invoice.created + 5 * 86_400);
  });

  test("pays with a good card once it is on file", async () => {
    const { subscription, portal } = await pastDueSubscriber();
    await control(env.emulator, `customers/${String(subscription.customer)}/card`, {
      number: "4242424242424242",
    });

    const response = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/pay`,
    );

    expect(response.headers.get("location")).toBe(`/p/session/${portal.id}?done=paid`);
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "active",
    );
  });

  test("a subscription with nothing overdue has nothing to pay", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    const portal = await env.stripe.billingPortal.sessions.create({
      customer: customer.id,
    });

    const response = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/pay`,
    );

    expect(response.status).toBe(400);
    expect(await response.text()).toContain("no overdue payment");
  });
});
