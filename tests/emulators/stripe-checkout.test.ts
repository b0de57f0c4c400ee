import type Stripe from "stripe";
import { describe, expect, test } from "vitest";
import {
  emulatorEvents,
  seededPrice,
  submitCheckoutForm,
  useStripeEmulator,
} from "./support/stripe.ts";

const env = useStripeEmulator();

async function newSession(
  lookupKey: string,
  extra: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<{ customer: Stripe.Customer; session: Stripe.Checkout.Session }> {
  const customer = await env.stripe.customers.create({
    email: `r.${Date.now()}@example.com`,
  });
  const price = await seededPrice(env.stripe, lookupKey);
  const session = await env.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://site.test/api/billing/success?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://site.test/pricing/",
    client_reference_id: "user_7",
    metadata: { user_id: "user_7" },
    subscription_data: { metadata: { user_id: "user_7" } },
    ...extra,
  });
  return { customer, session };
}

describe("Checkout", () => {
  test("creates an open session whose url is the emulator's hosted page", async () => {
    const { customer, session } = await newSession("core_monthly");

    expect(session).toMatchObject({
      object: "checkout.session",
      mode: "subscription",
      status: "open",
      payment_status: "unpaid",
      customer: customer.id,
      client_reference_id: "user_7",
      metadata: { user_id: "user_7" },
      amount_total: 1200,
      currency: "usd",
      subscription: null,
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${env.emulator.url}/c/pay/${session.id}`);
    expect(session.line_items).toBeUndefined();
  });

  test("the hosted page shows the plan, its formatted price, the email and the test card", async () => {
    const { customer, session } = await newSession("core_monthly");
    const response = await fetch(session.url ?? "");
    const page = await response.text();

    expect(response.status).toBe(200);
    expect(page).toContain("Core Stacker");
    expect(page).toContain('id="amount-due">$12.00</p>');
    expect(page).toContain("per month");
    expect(page).toContain(customer.email);
    expect(page).toContain("4242 4242 4242 4242");
    expect(page).toContain('name="card_number"');
    expect(page).toContain('href="http://site.test/pricing/"');
  });

  test("paying with 4242… starts the subscription and redirects to the success URL", async () => {
    const { customer, session } = await newSession("core_monthly");
    const response = await submitCheckoutForm(session.url ?? "", {
      card_number: "4242 4242 4242 4242",
    });

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(
      `http://site.test/api/billing/success?session_id=${session.id}`,
    );

    const done = await env.stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription", "line_items"],
    });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", url: null });
    expect(done.line_items?.data[0]?.price?.lookup_key).toBe("core_monthly");

    const subscription = done.subscription as Stripe.Subscription;
    const item = subscription.items.data[0];
    expect(subscription).toMatchObject({
      status: "active",
      customer: customer.id,
      metadata: { user_id: "user_7" },
      cancel_at_period_end: false,
    });
    expect(subscription).not.toHaveProperty("current_period_end");
    expect(item?.price.lookup_key).toBe("core_monthly");
    expect(item?.current_period_end).toBeGreaterThan(
      item?.current_period_start ?? Infinity,
    );
    expect(item?.current_period_end ?? 0).toBeGreaterThan(
      Date.now() / 1000 + 27 * 86_400,
    );

    const invoice = await env.stripe.invoices.retrieve(
      String(subscription.latest_invoice),
    );
    expect(invoice).toMatchObject({ status: "paid", amount_paid: 1200 });
  });

  test("emits checkout.session.completed, customer.subscription.created and invoice.paid in order", async () => {
    const { session } = await newSession("spark_yearly");
    await submitCheckoutForm(session.url ?? "", { card_number: "4242424242424242" });
    const done = await env.stripe.checkout.sessions.retrieve(session.id);

    const relevant = (await emulatorEvents(env.emulator)).filter((event) =>
      [session.id, done.subscription, done.invoice].includes(event.object_id),
    );
    expect(relevant.map((event) => event.type)).toEqual([
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.paid",
    ]);
  });

  test("a declined card shows the decline on the page and changes nothing", async () => {
    const { customer, session } = await newSession("lightning_monthly");
    const response = await submitCheckoutForm(session.url ?? "", {
      card_number: "4000 0000 0000 0002",
    });

    expect(response.status).toBe(402);
    expect(await response.text()).toContain("Your card was declined.");
    expect((await env.stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
    const subs = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
    });
    expect(subs.data).toHaveLength(0);
  });

  test("a completed session's page says so and cannot be paid twice", async () => {
    const { customer, session } = await newSession("spark_monthly");
    await submitCheckoutForm(session.url ?? "", { card_number: "4242424242424242" });

    const page = await (await fetch(`${env.emulator.url}/c/pay/${session.id}`)).text();
    const again = await submitCheckoutForm(`${env.emulator.url}/c/pay/${session.id}`, {
      card_number: "4242424242424242",
    });

    expect(page).toContain("This checkout is complete");
    expect(again.status).toBe(409);
    const subs = await env.stripe.subscriptions.list({
      customer: customer.id,
      status: "all",
    });
    expect(subs.data).toHaveLength(1);
  });

  test("an expired session's page says so", async () => {
    const { session } = await newSession("spark_monthly");
    await env.stripe.checkout.sessions.expire(session.id);

    const page = await (await fetch(`${env.emulator.url}/c/pay/${session.id}`)).text();
    expect(page).toContain("This checkout has expired");
  });

  test("trial days start a trialing subscription with nothing to pay today", async () => {
    const { session } = await newSession("core_yearly", {
      subscription_data: { trial_period_days: 14 },
    });
    const page = await (await fetch(session.url ?? "")).text();
    await submitCheckoutForm(session.url ?? "", { card_number: "4242424242424242" });

    const done = await env.stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription"],
    });
    const subscription = done.subscription as Stripe.Subscription;
    expect(page).toContain("14-day free trial");
    expect(done.payment_status).toBe("no_payment_required");
    expect(subscription.status).toBe("trialing");
    expect(subscription.trial_end).toBe(subscription.items.data[0]?.current_period_end);
  });

  test("without a customer, paying creates one with the email typed on the page", async () => {
    const price = await seededPrice(env.stripe, "spark_monthly");
    const session = await env.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "http://site.test/ok",
    });
    await submitCheckoutForm(session.url ?? "", {
      card_number: "4242424242424242",
      email: "new.reader@example.com",
    });

    const done = await env.stripe.checkout.sessions.retrieve(session.id, {
      expand: ["customer"],
    });
    expect((done.customer as Stripe.Customer).email).toBe("new.reader@example.com");
    expect(done.customer_details?.email).toBe("new.reader@example.com");
  });

  test("a one-time price is refused in subscription mode", async () => {
    const sticker = await seededPrice(env.stripe, "sticker_pack");
    const attempt = env.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: sticker.id, quantity: 1 }],
      success_url: "http://site.test/ok",
    });

    await expect(attempt).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      param: "line_items[0][price]",
    });
  });

  test("an unknown customer is refused", async () => {
    const price = await seededPrice(env.stripe, "spark_monthly");
    const attempt = env.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: "cus_nobody",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "http://site.test/ok",
    });

    await expect(attempt).rejects.toMatchObject({ statusCode: 404, param: "customer" });
  });
});
