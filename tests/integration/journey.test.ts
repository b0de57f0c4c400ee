import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The reader's whole journey on the built server, with the official SDK on the
 * Stripe emulator: sign up, subscribe to Core, pay, and read.
 */

let stack: Stack;
let core: ReturnType<typeof gatedPage>;
let lightning: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  stack = await startStack();
  core = gatedPage(stack.distDir, "core");
  lightning = gatedPage(stack.distDir, "lightning");
});

afterAll(async () => {
  await stack?.stop();
});

function storedTier(userEmail: string): { status: string; tier: string }[] {
  const db = stack.openDb();
  try {
    return db
      .prepare(
        `SELECT s.status, s.tier FROM subscription s JOIN user u ON u.id = s.user_id
          WHERE u.email = ?`,
      )
      .all(userEmail) as { status: string; tier: string }[];
  } finally {
    db.close();
  }
}

async function subscribe(reader: Reader, priceId: string): Promise<Response> {
  const checkout = await stack.post(
    "/api/billing/checkout",
    { price: priceId },
    reader.cookie,
  );
  expect(checkout.status).toBe(303);
  const checkoutUrl = checkout.headers.get("location") ?? "";
  expect(checkoutUrl.startsWith(stack.stripeUrl)).toBe(true);

  const paid = await payOnCheckoutPage(checkoutUrl);
  expect(paid.status).toBe(303);
  return paid;
}

describe("an anonymous reader", () => {
  it("gets the teaser of a gated post, never the full text", async () => {
    const response = await fetch(`${stack.baseUrl}${core.path}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(core.teaser);
    expect(core.teaser).not.toBe(core.full);
  });

  it("gets the public feeds with their own content types", async () => {
    const atom = await fetch(`${stack.baseUrl}/feed.xml`);
    expect(atom.headers.get("content-type")).toBe("application/atom+xml; charset=utf-8");
    expect(await atom.text()).toContain("<feed");

    const json = await fetch(`${stack.baseUrl}/feed.json`);
    expect(json.headers.get("content-type")).toBe("application/feed+json; charset=utf-8");
    expect(((await json.json()) as { version: string }).version).toContain("jsonfeed");
  });

  it("is told not to cache any gated answer", async () => {
    const response = await fetch(`${stack.baseUrl}${lightning.path}`);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });
});

describe("a reader who subscribes to Core", () => {
  let reader: Reader;

  beforeAll(async () => {
    reader = await stack.signUp();
  });

  it("sees the teaser before paying", async () => {
    const response = await fetch(`${stack.baseUrl}${core.path}`, {
      headers: { cookie: reader.cookie },
    });
    expect(await response.text()).toBe(core.teaser);
  });

  it("pays on the Checkout page and the webhook stores the Core tier", async () => {
    const paid = await subscribe(reader, await billingFor(stack).priceOf("core"));

    // The emulator sends the browser back to the success URL; the webhook
    // alone (without visiting it) must grant the tier.
    expect(paid.headers.get("location")).toContain("/api/billing/success?session_id=cs_");
    await stack.flushWebhooks();

    expect(storedTier(reader.email)).toEqual([{ status: "active", tier: "core" }]);
  });

  it("reads the full Core post, with Cache-Control private, no-store", async () => {
    const response = await fetch(`${stack.baseUrl}${core.path}`, {
      headers: { cookie: reader.cookie },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(await response.text()).toBe(core.full);
  });

  it("still gets the teaser of a Lightning post", async () => {
    const response = await fetch(`${stack.baseUrl}${lightning.path}`, {
      headers: { cookie: reader.cookie },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(lightning.teaser);
  });

  it("sees the tier and renewal date on /api/me", async () => {
    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: reader.cookie },
    });
    const me = (await response.json()) as {
      user: { tier: string; subscription: { status: string; currentPeriodEnd: string } };
    };
    expect(me.user.tier).toBe("core");
    expect(me.user.subscription.status).toBe("active");
    expect(Date.parse(me.user.subscription.currentPeriodEnd)).toBeGreaterThan(Date.now());
  });
});

describe("a forged webhook", () => {
  it("gets 400 and changes nothing", async () => {
    const reader = await stack.signUp();
    const before = storedTier(reader.email);

    const customer = await stack.stripe.customers.create({ email: reader.email });
    const payload = JSON.stringify({
      id: "evt_forged",
      object: "event",
      type: "customer.subscription.created",
      data: {
        object: { id: "sub_forged", object: "subscription", customer: customer.id },
      },
    });
    const header = stack.stripe.webhooks.generateTestHeaderString({
      payload,
      secret: "whsec_not_the_real_secret",
    });

    const response = await fetch(`${stack.baseUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": header },
      body: payload,
    });
    expect(response.status).toBe(400);
    expect(storedTier(reader.email)).toEqual(before);

    const db = stack.openDb();
    const recorded = db
      .prepare("SELECT id FROM stripe_event WHERE id = ?")
      .get("evt_forged");
    db.close();
    expect(recorded).toBeUndefined();
  });
});
