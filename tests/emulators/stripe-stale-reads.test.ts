import type Stripe from "stripe";
import { describe, expect, test } from "vitest";
import { control, subscribe, useStripeEmulator } from "./support/stripe.ts";

/*
 * The stale-read control: the next subscription reads for one customer answer
 * with an earlier version of the subscription, as Stripe's eventual
 * consistency can for a moment after a change, and then the truth again.
 */

const env = useStripeEmulator();

async function canceledSubscription(): Promise<{
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
}> {
  const { customer, subscription } = await subscribe(env.stripe, "core_monthly");
  await env.stripe.subscriptions.cancel(subscription.id);
  return { customer, subscription };
}

async function armStale(customerId: string, body: object = {}) {
  return control<{ customer: string; reads: number; versions_back: number }>(
    env.emulator,
    `customers/${customerId}/stale_reads`,
    body,
  );
}

describe("stale reads", () => {
  test("a list answers once with the version before the change, then with the truth", async () => {
    const { customer, subscription } = await canceledSubscription();

    const armed = await armStale(customer.id);
    expect(armed).toEqual({
      status: 200,
      body: { customer: customer.id, reads: 1, versions_back: 1 },
    });

    const stale = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
    });
    expect(stale.data.map((sub) => [sub.id, sub.status])).toEqual([
      [subscription.id, "active"],
    ]);

    const fresh = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
    });
    expect(fresh.data.map((sub) => sub.status)).toEqual(["canceled"]);
  });

  test("a retrieve is stale too, and a list filters by the stale status", async () => {
    const { customer, subscription } = await canceledSubscription();
    await armStale(customer.id, { reads: 2 });

    const retrieved = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(retrieved).toMatchObject({ status: "active", ended_at: null });
    // Without a status the list leaves ended subscriptions out; the stale one is not.
    const listed = await env.stripe.subscriptions.list({ customer: customer.id });
    expect(listed.data.map((sub) => sub.id)).toEqual([subscription.id]);

    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "canceled",
    );
  });

  test("leaves other customers' reads alone", async () => {
    const { customer } = await canceledSubscription();
    const other = await canceledSubscription();
    await armStale(customer.id);

    const read = await env.stripe.subscriptions.retrieve(other.subscription.id);
    expect(read.status).toBe("canceled");
    const stale = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
    });
    expect(stale.data[0]?.status).toBe("active");
  });

  test("goes further back with versions_back, and 0 reads disarms it", async () => {
    const { customer, subscription } = await subscribe(env.stripe, "spark_monthly");
    await env.stripe.subscriptions.update(subscription.id, {
      cancel_at_period_end: true,
    });
    await env.stripe.subscriptions.cancel(subscription.id);

    await armStale(customer.id, { versions_back: 2 });
    const twoBack = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(twoBack).toMatchObject({ status: "active", cancel_at_period_end: false });

    await armStale(customer.id, { versions_back: 50 });
    const oldest = await env.stripe.subscriptions.retrieve(subscription.id);
    expect(oldest.status).toBe("active");

    await armStale(customer.id);
    await armStale(customer.id, { reads: 0 });
    expect((await env.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "canceled",
    );
  });

  test("refuses an unknown customer and out-of-range numbers", async () => {
    const { customer } = await subscribe(env.stripe, "spark_monthly");
    expect((await armStale("cus_nobody")).status).toBe(404);
    expect((await armStale(customer.id, { reads: 101 })).status).toBe(400);
    expect((await armStale(customer.id, { versions_back: 0 })).status).toBe(400);
  });
});

describe("a canceled subscription", () => {
  test("still takes a metadata update, which Stripe announces", async () => {
    const { subscription } = await canceledSubscription();

    const updated = await env.stripe.subscriptions.update(subscription.id, {
      metadata: { note: "refunded" },
    });
    expect(updated).toMatchObject({ status: "canceled", metadata: { note: "refunded" } });
    const events = await env.stripe.events.list({
      type: "customer.subscription.updated",
      limit: 5,
    });
    const latest = events.data[0]?.data.object as Stripe.Subscription | undefined;
    expect(latest).toMatchObject({ id: subscription.id, metadata: { note: "refunded" } });
  });

  test("refuses any other change", async () => {
    const { subscription } = await canceledSubscription();
    await expect(
      env.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});
