import type Stripe from "stripe";
import { describe, expect, test } from "vitest";
import {
  advanceClock,
  emulatorEvents,
  seededPrice,
  submitForm,
  subscribe,
  useStripeEmulator,
} from "./support/stripe.ts";

const env = useStripeEmulator();

async function openPortal(customer: string): Promise<Stripe.BillingPortal.Session> {
  return env.stripe.billingPortal.sessions.create({
    customer,
    return_url: "http://site.test/account/",
  });
}

async function updatesOf(subscriptionId: string) {
  const events = await env.stripe.events.list({
    type: "customer.subscription.updated",
    limit: 100,
  });
  return events.data.filter(
    (event) => (event.data.object as Stripe.Subscription).id === subscriptionId,
  );
}

describe("billing portal", () => {
  test("the portal page lists the subscription with its plan, status and renewal date", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    const portal = await openPortal(customer.id);
    const page = await (await fetch(portal.url)).text();

    expect(portal.url).toBe(`${env.emulator.url}/p/session/${portal.id}`);
    expect(portal.return_url).toBe("http://site.test/account/");
    expect(page).toContain("Core Stacker");
    expect(page).toContain("$12.00 per month");
    expect(page).toContain("Renews on");
    expect(page).toContain(`subscription-${subscription.id}`);
    expect(page).toContain('href="http://site.test/account/"');
    expect(page).not.toContain("Sticker pack");
  });

  test("switching plan changes the item's price and emits customer.subscription.updated", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    const lightning = await seededPrice(env.stripe, "lightning_monthly");
    const portal = await openPortal(customer.id);

    const response = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/switch`,
      { price: lightning.id },
    );

    expect(response.status).toBe(303);
    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.items.data[0]?.price.id).toBe(lightning.id);
    expect(after.items.data[0]?.id).toBe(subscription.items.data[0]?.id);
    const [update] = await updatesOf(subscription.id);
    const previous = update?.data.previous_attributes as Partial<Stripe.Subscription>;
    expect(previous.items?.data[0]?.price.lookup_key).toBe("spark_monthly");
  });

  test("switching from monthly to yearly starts a new yearly period", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    const yearly = await seededPrice(env.stripe, "core_yearly");
    const portal = await openPortal(customer.id);
    await submitForm(`${portal.url}/subscriptions/${subscription.id}/switch`, {
      price: yearly.id,
    });

    const item = (await env.stripe.subscriptions.retrieve(subscription.id)).items.data[0];
    expect(
      (item?.current_period_end ?? 0) - (item?.current_period_start ?? 0),
    ).toBeGreaterThan(364 * 86_400);
  });

  test("cancel at period end and resume, each emitting customer.subscription.updated", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    const portal = await openPortal(customer.id);
    const periodEnd = subscription.items.data[0]?.current_period_end;

    await submitForm(`${portal.url}/subscriptions/${subscription.id}/cancel`);
    const canceling = await env.stripe.subscriptions.retrieve(subscription.id);
    const page = await (await fetch(`${portal.url}?done=canceled`)).text();
    await submitForm(`${portal.url}/subscriptions/${subscription.id}/resume`);
    const resumed = await env.stripe.subscriptions.retrieve(subscription.id);

    expect(canceling).toMatchObject({
      status: "active",
      cancel_at_period_end: true,
      cancel_at: periodEnd,
    });
    expect(page).toContain("Cancels on");
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    const updates = await updatesOf(subscription.id);
    expect(
      updates.map((e) => (e.data.object as Stripe.Subscription).cancel_at_period_end),
    ).toEqual([false, true]);
  });

  test("a portal session cannot act on another customer's subscription", async () => {
    const { subscription } = await subscribe(env.stripe, "core_monthly");
    const { customer: other } = await subscribe(env.stripe, "spark_monthly");
    const portal = await openPortal(other.id);

    const response = await submitForm(
      `${portal.url}/subscriptions/${subscription.id}/cancel`,
    );

    expect(response.status).toBe(400);
    expect(await response.text()).toContain("belongs to another customer");
    expect(
      (await env.stripe.subscriptions.retrieve(subscription.id)).cancel_at,
    ).toBeNull();
  });

  test("a portal session for an unknown customer is refused", async () => {
    await expect(openPortal("cus_nobody")).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("subscriptions API", () => {
  test("lists a customer's subscriptions, canceled ones only with status=all", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    await env.stripe.subscriptions.cancel(subscription.id);

    const live = await env.stripe.subscriptions.list({ customer: customer.id });
    const all = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
      expand: ["data.items.data.price.product"],
    });

    expect(live.data).toHaveLength(0);
    expect(all.data.map((sub) => sub.status)).toEqual(["canceled"]);
    const product = all.data[0]?.items.data[0]?.price.product as Stripe.Product;
    expect(product.metadata.tier).toBe("spark");
  });

  test("cancel via DELETE ends the subscription and emits customer.subscription.deleted", async () => {
    const { subscription } = await subscribe(env.stripe, "core_monthly");
    const canceled = await env.stripe.subscriptions.cancel(subscription.id);

    expect(canceled).toMatchObject({ status: "canceled" });
    expect(canceled.ended_at).not.toBeNull();
    const deleted = await env.stripe.events.list({
      type: "customer.subscription.deleted",
    });
    expect(deleted.data.map((e) => (e.data.object as Stripe.Subscription).id)).toContain(
      subscription.id,
    );
  });

  test("update sets cancel_at_period_end, cancel_at and the item's price", async () => {
    const { subscription } = await subscribe(env.stripe, "spark_monthly");
    const core = await seededPrice(env.stripe, "core_monthly");
    const itemId = subscription.items.data[0]?.id ?? "";

    const scheduled = await env.stripe.subscriptions.update(subscription.id, {
      cancel_at_period_end: true,
    });
    const moved = await env.stripe.subscriptions.update(subscription.id, {
      cancel_at: "",
      items: [{ id: itemId, price: core.id }],
      proration_behavior: "none",
      expand: ["items.data.price.product"],
    });

    expect(scheduled.cancel_at).toBe(subscription.items.data[0]?.current_period_end);
    expect(moved.cancel_at).toBeNull();
    expect(moved.items.data).toHaveLength(1);
    expect(moved.items.data[0]?.price.product).toMatchObject({ name: "Core Stacker" });
  });

  test("the sticker pack's one-time price cannot be put on a subscription", async () => {
    const { subscription } = await subscribe(env.stripe, "spark_monthly");
    const sticker = await seededPrice(env.stripe, "sticker_pack");
    const attempt = env.stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]?.id, price: sticker.id }],
    });

    await expect(attempt).rejects.toMatchObject({ param: "items[0][price]" });
  });
});

describe("test clock", () => {
  test("a cancellation at period end takes effect when the period ends", async () => {
    const { subscription } = await subscribe(env.stripe, "spark_monthly");
    await env.stripe.subscriptions.update(subscription.id, {
      cancel_at_period_end: true,
    });

    await advanceClock(env.emulator, 32);

    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe("canceled");
    expect(after.ended_at).toBe(subscription.items.data[0]?.current_period_end);
    const types = (await emulatorEvents(env.emulator))
      .filter((event) => event.object_id === subscription.id)
      .map((event) => event.type);
    expect(types.at(-1)).toBe("customer.subscription.deleted");
  });

  test("an active subscription renews into a new period with a paid invoice", async () => {
    const { subscription } = await subscribe(env.stripe, "core_monthly");
    const firstEnd = subscription.items.data[0]?.current_period_end ?? 0;

    await advanceClock(env.emulator, 32);

    const after = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe("active");
    expect(after.items.data[0]?.current_period_start).toBe(firstEnd);
    const invoices = await env.stripe.invoices.list({ subscription: subscription.id });
    expect(invoices.data.map((i) => [i.billing_reason, i.status])).toContainEqual([
      "subscription_cycle",
      "paid",
    ]);
  });

  test("a failed payment makes the subscription past_due until the reader pays in the portal", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
    await fetch(
      `${env.emulator.url}/_emulator/subscriptions/${subscription.id}/payment_failed`,
      {
        method: "POST",
      },
    );
    const pastDue = await env.stripe.subscriptions.retrieve(subscription.id);

    const portal = await openPortal(customer.id);
    await submitForm(`${portal.url}/subscriptions/${subscription.id}/pay`);
    const recovered = await env.stripe.subscriptions.retrieve(subscription.id);

    expect(pastDue.status).toBe("past_due");
    expect(recovered.status).toBe("active");
    const failed = await env.stripe.events.list({ type: "invoice.payment_failed" });
    expect(
      failed.data.some((e) => (e.data.object as Stripe.Invoice).customer === customer.id),
    ).toBe(true);
  });
});
