import { beforeEach, describe, expect, it } from "vitest";
import type { StoredSubscription } from "../../server/billing/subscription-row.ts";
import {
  applyCustomerSnapshot,
  type CustomerSnapshot,
} from "../../server/billing/sync.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";

/**
 * The billing emails the subscription sync queues: one per transition it
 * stores, in the same transaction, none for a sync that changes nothing.
 */

const start = 1_800_000_000;
const day = 86_400;

function row(overrides: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    id: "sub_1",
    customerId: "cus_1",
    status: "active",
    tier: "core",
    priceId: "price_core_month",
    interval: "month",
    currentPeriodEnd: start + 30 * day,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    stripeCreated: start - day,
    latestInvoiceId: "in_first",
    ...overrides,
  };
}

function snapshot(subscriptions: StoredSubscription[]): CustomerSnapshot {
  return { customerId: "cus_1", subscriptions, userIdHint: null };
}

interface Queued {
  idempotency_key: string;
  to_address: string;
  template: string;
  data: Record<string, unknown>;
}

describe("billing emails from the subscription sync", () => {
  let db: Db;
  let now: number;

  /** Applies one snapshot a few seconds after the previous one. */
  const sync = (...subscriptions: StoredSubscription[]) => {
    now += 5;
    return db.transaction(() =>
      applyCustomerSnapshot(db, snapshot(subscriptions), now),
    )();
  };

  const queued = (): Queued[] =>
    (
      db
        .prepare(
          "SELECT idempotency_key, to_address, template, data FROM outbox ORDER BY id",
        )
        .all() as (Omit<Queued, "data"> & { data: string })[]
    ).map((email) => ({ ...email, data: JSON.parse(email.data) }));

  const templates = () => queued().map((email) => email.template);

  beforeEach(() => {
    db = openDatabase(":memory:");
    now = start;
    db.prepare(
      `INSERT INTO user (id, email, password_hash, stripe_customer_id, created_at)
       VALUES ('user_a', 'mara@example.com', 'x', 'cus_1', ?)`,
    ).run(start);
  });

  it("announces a new subscription that grants access, once, to the reader", () => {
    sync(row());
    sync(row());
    sync(row());

    expect(queued()).toEqual([
      {
        idempotency_key: "subscription-started:sub_1",
        to_address: "mara@example.com",
        template: "subscription-started",
        data: {
          tierName: "Core Stacker",
          interval: "month",
          renewsAt: new Date((start + 30 * day) * 1000).toISOString(),
        },
      },
    ]);
  });

  it("announces an incomplete subscription when its first payment goes through", () => {
    sync(row({ status: "incomplete" }));
    expect(templates()).toEqual([]);

    sync(row({ status: "active" }));
    expect(templates()).toEqual(["subscription-started"]);
  });

  it("does not announce a recovered payment as a new subscription", () => {
    sync(row());
    sync(row({ status: "past_due" }));
    sync(row({ status: "active", latestInvoiceId: "in_second" }));

    expect(templates()).toEqual(["subscription-started", "payment-failed"]);
  });

  it("announces a plan change of the same subscription, naming both tiers", () => {
    sync(row());
    sync(row({ tier: "lightning", priceId: "price_lightning_month" }));
    sync(row({ tier: "lightning", priceId: "price_lightning_month" }));

    const [, changed, ...rest] = queued();
    expect(rest).toEqual([]);
    expect(changed).toMatchObject({
      template: "plan-changed",
      data: { fromTierName: "Core Stacker", toTierName: "Lightning Stacker" },
    });
    expect(changed?.idempotency_key).toMatch(/^plan-changed:sub_1:core>lightning@\d+$/);
  });

  it("announces each scheduled cancellation, and nothing for a resumed one", () => {
    const endsAt = start + 30 * day;
    sync(row());
    sync(row({ cancelAt: endsAt, cancelAtPeriodEnd: true }));
    sync(row({ cancelAt: endsAt, cancelAtPeriodEnd: true }));
    sync(row({ cancelAt: null }));
    sync(row({ cancelAt: endsAt, cancelAtPeriodEnd: true }));

    const cancellations = queued().filter((e) => e.template === "cancellation-scheduled");
    expect(cancellations).toHaveLength(2);
    expect(cancellations[0]?.data).toEqual({
      tierName: "Core Stacker",
      endsAt: new Date(endsAt * 1000).toISOString(),
    });
    expect(new Set(cancellations.map((e) => e.idempotency_key)).size).toBe(2);
  });

  it("announces a failed payment once per invoice, however often it is retried", () => {
    sync(row());
    sync(row({ status: "past_due", latestInvoiceId: "in_renewal" }));
    const firstFailure = now;
    sync(row({ status: "past_due", latestInvoiceId: "in_renewal" }));
    sync(row({ status: "past_due", latestInvoiceId: "in_renewal" }));

    const failed = queued().filter((e) => e.template === "payment-failed");
    expect(failed).toEqual([
      {
        idempotency_key: "payment-failed:in_renewal",
        to_address: "mara@example.com",
        template: "payment-failed",
        data: {
          tierName: "Core Stacker",
          graceEndsAt: new Date((firstFailure + 7 * day) * 1000).toISOString(),
        },
      },
    ]);
  });

  it("announces the next invoice's failure too", () => {
    sync(row());
    sync(row({ status: "past_due", latestInvoiceId: "in_march" }));
    sync(row({ status: "active", latestInvoiceId: "in_march" }));
    sync(row({ status: "past_due", latestInvoiceId: "in_april" }));

    expect(
      queued()
        .filter((e) => e.template === "payment-failed")
        .map((e) => e.idempotency_key),
    ).toEqual(["payment-failed:in_march", "payment-failed:in_april"]);
  });

  it("announces the end of access when retries run out, then the cancellation", () => {
    sync(row());
    sync(row({ status: "past_due", latestInvoiceId: "in_renewal" }));
    sync(row({ status: "unpaid", latestInvoiceId: "in_renewal" }));
    sync(row({ status: "unpaid", latestInvoiceId: "in_renewal" }));
    sync(row({ status: "canceled", latestInvoiceId: "in_renewal" }));

    const ended = queued().filter((e) => e.template === "subscription-ended");
    expect(ended.map((e) => e.data)).toEqual([
      { tierName: "Core Stacker", reason: "unpaid" },
      { tierName: "Core Stacker", reason: "canceled" },
    ]);
    expect(templates().filter((t) => t === "payment-failed")).toHaveLength(1);
  });

  it("announces a cancelled subscription's end once, and a checkout that expired", () => {
    sync(row());
    sync(row({ status: "canceled" }));
    sync(row({ status: "canceled" }));
    sync(row({ id: "sub_2", status: "incomplete" }), row({ status: "canceled" }));
    sync(row({ id: "sub_2", status: "incomplete_expired" }), row({ status: "canceled" }));

    const ended = queued().filter((e) => e.template === "subscription-ended");
    expect(ended.map((e) => [e.idempotency_key.split("@")[0], e.data.reason])).toEqual([
      ["subscription-ended:sub_1:canceled", "canceled"],
      ["subscription-ended:sub_2:incomplete_expired", "expired"],
    ]);
  });

  it("queues nothing for a subscription first seen already over", () => {
    sync(row({ status: "canceled" }));
    expect(queued()).toEqual([]);
  });

  it("queues nothing for a customer that belongs to no reader", () => {
    db.transaction(() =>
      applyCustomerSnapshot(db, { ...snapshot([row()]), customerId: "cus_other" }, now),
    )();
    expect(queued()).toEqual([]);
  });

  it("queues nothing when the sync's transaction is rolled back", () => {
    expect(() =>
      db.transaction(() => {
        applyCustomerSnapshot(db, snapshot([row()]), now);
        throw new Error("the webhook's write failed");
      })(),
    ).toThrow();

    expect(queued()).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM subscription").get()).toEqual({ n: 0 });
  });

  it("stores the latest invoice with the subscription", () => {
    sync(row({ latestInvoiceId: "in_42" }));
    expect(db.prepare("SELECT latest_invoice_id FROM subscription").get()).toEqual({
      latest_invoice_id: "in_42",
    });
  });
});
