import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  customerIdOf,
  parseWebhookSecrets,
  triggerOf,
  verifyWebhook,
} from "../../server/billing/webhook.ts";

const stripe = new Stripe("sk_test_unit");

function event(type: string, object: Record<string, unknown>): Stripe.Event {
  return {
    id: "evt_1",
    object: "event",
    type,
    data: { object },
  } as unknown as Stripe.Event;
}

function signed(payload: string, secret: string): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret });
}

describe("what a webhook event asks for", () => {
  it("syncs the customer named by a subscription, invoice or checkout session", () => {
    const cases: [string, Record<string, unknown>][] = [
      ["customer.subscription.updated", { object: "subscription", customer: "cus_1" }],
      ["invoice.paid", { object: "invoice", customer: "cus_1" }],
      ["checkout.session.completed", { object: "checkout.session", customer: "cus_1" }],
      ["customer.updated", { object: "customer", id: "cus_1" }],
    ];
    for (const [type, object] of cases) {
      expect(triggerOf(event(type, object))).toEqual({
        kind: "customer",
        customerId: "cus_1",
      });
    }
  });

  it("refreshes pricing on product and price events", () => {
    expect(triggerOf(event("product.updated", { object: "product" }))).toEqual({
      kind: "pricing",
    });
    expect(triggerOf(event("price.created", { object: "price" }))).toEqual({
      kind: "pricing",
    });
  });

  it("asks nothing of unknown types, deleted customers, or events without a customer", () => {
    const none = { kind: "none" };
    expect(triggerOf(event("charge.refunded", { customer: "cus_1" }))).toEqual(none);
    expect(
      triggerOf(event("customer.deleted", { object: "customer", id: "cus_1" })),
    ).toEqual(none);
    expect(triggerOf(event("checkout.session.completed", { customer: null }))).toEqual(
      none,
    );
  });

  it("reads an expanded customer", () => {
    expect(customerIdOf({ customer: { id: "cus_9", object: "customer" } })).toBe("cus_9");
    expect(customerIdOf(null)).toBeNull();
  });
});

describe("webhook signatures", () => {
  const payload = JSON.stringify({
    id: "evt_1",
    object: "event",
    type: "x",
    data: { object: {} },
  });

  it("accepts a body signed with any of the configured secrets", () => {
    const secrets = parseWebhookSecrets(" whsec_old , whsec_new,");
    expect(secrets).toEqual(["whsec_old", "whsec_new"]);

    const result = verifyWebhook(
      Buffer.from(payload),
      signed(payload, "whsec_new"),
      secrets,
    );
    expect(result).toMatchObject({ kind: "verified", event: { id: "evt_1" } });
  });

  it("refuses a wrong secret, an altered body, or a missing header", () => {
    const secrets = ["whsec_right"];
    const header = signed(payload, "whsec_right");

    expect(
      verifyWebhook(Buffer.from(payload), signed(payload, "whsec_wrong"), secrets),
    ).toMatchObject({ kind: "refused" });
    expect(
      verifyWebhook(Buffer.from(payload.replace("evt_1", "evt_2")), header, secrets),
    ).toMatchObject({ kind: "refused" });
    expect(verifyWebhook(Buffer.from(payload), undefined, secrets)).toMatchObject({
      kind: "refused",
    });
    expect(verifyWebhook(undefined, header, secrets)).toMatchObject({
      kind: "refused",
    });
  });
});
