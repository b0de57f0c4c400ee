import { beforeEach, describe, expect, it } from "vitest";
import { readEntitlement } from "../../server/billing/entitlements.ts";
import type { StoredSubscription } from "../../server/billing/subscription-row.ts";
import {
  applyCustomerSnapshot,
  type CustomerSnapshot,
} from "../../server/billing/sync.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";

const now = 1_800_000_000;
const day = 86_400;

function row(overrides: Partial<StoredSubscription> = {}): StoredSubscription {
  return {
    id: "sub_1",
    customerId: "cus_1",
    status: "active",
    tier: "core",
    priceId: "price_core_month",
    interval: "month",
    currentPeriodEnd: now + 30 * day,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    stripeCreated: now - day,
    ...overrides,
  };
}

function snapshot(
  subscriptions: StoredSubscription[],
  overrides: Partial<CustomerSnapshot> = {},
): CustomerSnapshot {
  return { customerId: "cus_1", subscriptions, userIdHint: null, ...overrides };
}

function apply(db: Db, snap: CustomerSnapshot, at = now) {
  return db.transaction(() => applyCustomerSnapshot(db, snap, at))();
}

function addUser(db: Db, id: string, customerId: string | null): void {
  db.prepare(
    `INSERT INTO user (id, email, password_hash, stripe_customer_id, created_at)
     VALUES (?, ?, 'x', ?, ?)`,
  ).run(id, `${id}@example.com`, customerId, now);
}

function stored(db: Db) {
  return db
    .prepare(
      "SELECT id, user_id, status, tier, past_due_since FROM subscription ORDER BY id",
    )
    .all();
}

describe("applying a customer's subscriptions", () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(":memory:");
    addUser(db, "user_a", "cus_1");
  });

  it("stores the subscriptions of a known customer for its reader", () => {
    const result = apply(db, snapshot([row()]));

    expect(result).toMatchObject({ kind: "synced", userId: "user_a", stored: 1 });
    expect(stored(db)).toEqual([
      {
        id: "sub_1",
        user_id: "user_a",
        status: "active",
        tier: "core",
        past_due_since: null,
      },
    ]);
    expect(readEntitlement(db, "user_a", now).tier).toBe("core");
  });

  it("changes nothing for a customer that belongs to no reader", () => {
    const result = apply(
      db,
      snapshot([row({ customerId: "cus_other" })], { customerId: "cus_other" }),
    );
    expect(result).toEqual({ kind: "unknown-customer", customerId: "cus_other" });
    expect(stored(db)).toEqual([]);
  });

  it("links a reader without a customer through the subscription's user id", () => {
    addUser(db, "user_b", null);
    const snap = snapshot([row({ id: "sub_b", customerId: "cus_b" })], {
      customerId: "cus_b",
      userIdHint: "user_b",
    });

    expect(apply(db, snap)).toMatchObject({ kind: "synced", userId: "user_b" });
    const user = db
      .prepare("SELECT stripe_customer_id FROM user WHERE id = 'user_b'")
      .get();
    expect(user).toEqual({ stripe_customer_id: "cus_b" });
  });

  it("applying the same snapshot twice ends in the same rows", () => {
    apply(db, snapshot([row()]));
    const first = stored(db);
    const again = apply(db, snapshot([row()]));

    expect(stored(db)).toEqual(first);
    expect(again).toMatchObject({ kind: "synced", changes: [] });
  });

  it("counts the grace period from the first sync that saw past_due", () => {
    apply(db, snapshot([row({ status: "past_due" })]), now);
    apply(db, snapshot([row({ status: "past_due" })]), now + 2 * day);
    expect(stored(db)).toMatchObject([{ status: "past_due", past_due_since: now }]);
    expect(readEntitlement(db, "user_a", now + 3 * day).tier).toBe("core");
    expect(readEntitlement(db, "user_a", now + 8 * day).tier).toBe("free");

    apply(db, snapshot([row({ status: "active" })]), now + 9 * day);
    expect(stored(db)).toMatchObject([{ status: "active", past_due_since: null }]);
  });

  it("removes rows Stripe no longer lists as granting a tier", () => {
    apply(db, snapshot([row({ id: "sub_1" }), row({ id: "sub_2", tier: "spark" })]));
    const result = apply(db, snapshot([row({ id: "sub_2", tier: "spark" })]));

    expect(result).toMatchObject({ kind: "synced", removed: 1 });
    expect(stored(db)).toMatchObject([{ id: "sub_2", tier: "spark" }]);
  });

  it("reports each status change", () => {
    apply(db, snapshot([row({ status: "incomplete" })]));
    const result = apply(db, snapshot([row({ status: "active" })]));
    expect(result).toMatchObject({
      changes: [
        { subscriptionId: "sub_1", tier: "core", from: "incomplete", to: "active" },
      ],
    });
  });

  it("never reopens a subscription stored as ended", () => {
    apply(db, snapshot([row({ status: "canceled" })]));
    const result = apply(db, snapshot([row({ status: "active" })]));

    expect(stored(db)).toMatchObject([{ id: "sub_1", status: "canceled" }]);
    expect(result).toMatchObject({ kind: "synced", changes: [] });
    expect(readEntitlement(db, "user_a", now).tier).toBe("free");
  });
});
