import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  customerIdOf,
  HANDLED_EVENT_TYPES,
  triggerOf,
} from "../../server/billing/events.ts";
import {
  parseWebhookSecrets,
  signedAt,
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

function signed(payload: string, secret: string, timestamp?: number): string {
  return stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

describe("what a webhook event asks for", () => {
  it("syncs the customer named by a subscription, invoice or checkout session", () => {
    const cases: [string, Record<string, unknown>][] = [
      ["customer.subscription.updated", { object: "subscription", customer: "cus_1" }],
      ["invoice.paid", { object: "invoice", customer: "cus_1" }],
      ["checkout.session.completed", { object: "checkout.session", customer: "cus_1" }],
      ["invoice.payment_action_required", { object: "invoice", customer: "cus_1" }],
      [
        "customer.subscription.trial_will_end",
        { object: "subscription", customer: "cus_1" },
      ],
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

  it("ignores every type it does not listen to", () => {
    const ignored = { kind: "ignored" };
    expect(triggerOf(event("charge.refunded", { customer: "cus_1" }))).toEqual(ignored);
    expect(
      triggerOf(event("customer.deleted", { object: "customer", id: "cus_1" })),
    ).toEqual(ignored);
    expect(triggerOf(event("invoice.created", { customer: "cus_1" }))).toEqual(ignored);
  });

  it("has nothing to sync for a handled event that names no customer", () => {
    expect(triggerOf(event("checkout.session.completed", { customer: null }))).toEqual({
      kind: "no-customer",
    });
  });

  it("answers every type it listens to, and no other", () => {
    for (const type of HANDLED_EVENT_TYPES) {
      expect(triggerOf(event(type, { customer: "cus_1" })).kind).not.toBe("ignored");
    }
    expect(new Set(HANDLED_EVENT_TYPES).size).toBe(HANDLED_EVENT_TYPES.length);
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

  it("refuses a timestamp more than five minutes old or ahead, however well signed", () => {
    const secrets = ["whsec_right"];
    const now = 1_800_000_000;
    const at = (offset: number) =>
      verifyWebhook(
        Buffer.from(payload),
        signed(payload, "whsec_right", now + offset),
        secrets,
        now * 1000,
      ).kind;

    expect(at(0)).toBe("verified");
    expect(at(-300)).toBe("verified");
    expect(at(300)).toBe("verified");
    expect(at(-301)).toBe("refused");
    expect(at(301)).toBe("refused");
  });

  it("refuses a well-signed body that is not an event with an object", () => {
    const secrets = ["whsec_right"];
    for (const body of ["null", "[]", '{"id":"evt_1","type":"x","data":null}']) {
      const result = verifyWebhook(
        Buffer.from(body),
        signed(body, "whsec_right"),
        secrets,
      );
      expect(result).toEqual({
        kind: "refused",
        reason: "signed payload is not a Stripe event",
      });
    }
  });

  it("reads the timestamp the signature covers: the last t= in the header", () => {
    expect(signedAt("t=100,v1=abc,t=200")).toBe(200);
    expect(signedAt("v1=abc")).toBeNaN();
  });
});
