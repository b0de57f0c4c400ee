import type Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { repairSubscriptions } from "../../server/billing/repair.ts";
import type { SyncResult } from "../../server/billing/sync.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";

/** A Stripe client whose subscription list yields the given customers. */
function stripeListing(customers: string[] | Error): Stripe {
  async function* list() {
    if (customers instanceof Error) throw customers;
    for (const customer of customers) yield { id: `sub_${customer}`, customer };
  }
  return { subscriptions: { list } } as unknown as Stripe;
}

function addUser(db: Db, id: string, customerId: string | null): void {
  db.prepare(
    `INSERT INTO user (id, email, password_hash, stripe_customer_id, created_at)
     VALUES (?, ?, 'x', ?, 0)`,
  ).run(id, `${id}@example.com`, customerId);
}

function storeActive(db: Db, userId: string, customerId: string, tier: string): void {
  db.prepare(
    `INSERT INTO subscription (id, user_id, customer_id, status, tier, stripe_created, updated_at)
     VALUES (?, ?, ?, 'active', ?, 0, 0)`,
  ).run(`sub_${customerId}`, userId, customerId, tier);
}

describe("repairing every customer's subscriptions", () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(":memory:");
    addUser(db, "ann", "cus_ann");
    addUser(db, "bob", "cus_bob");
  });

  it("syncs readers' customers and Stripe's, and reports tier changes masked", async () => {
    const synced: string[] = [];
    const sync = async (customerId: string): Promise<SyncResult> => {
      synced.push(customerId);
      if (customerId === "cus_stranger") return { kind: "unknown-customer", customerId };
      if (customerId === "cus_bob") storeActive(db, "bob", customerId, "core");
      const userId = customerId === "cus_bob" ? "bob" : "ann";
      return { kind: "synced", customerId, userId, stored: 1, removed: 0, changes: [] };
    };

    const report = await repairSubscriptions(
      stripeListing(["cus_bob", "cus_stranger"]),
      db,
      sync,
    );

    expect(synced.sort()).toEqual(["cus_ann", "cus_bob", "cus_stranger"]);
    expect(report).toEqual({
      customersChecked: 3,
      unknownCustomers: 1,
      tierChanges: [{ email: "b***@example.com", from: "free", to: "core" }],
      failures: [],
    });
  });

  it("carries on past a customer that fails, and reports it", async () => {
    const sync = async (customerId: string): Promise<SyncResult> => {
      if (customerId === "cus_ann") throw new Error("Stripe is down");
      return {
        kind: "synced",
        customerId,
        userId: "bob",
        stored: 0,
        removed: 0,
        changes: [],
      };
    };

    const report = await repairSubscriptions(stripeListing([]), db, sync);
    expect(report.customersChecked).toBe(2);
    expect(report.failures).toEqual([
      { what: "customer cus_ann", message: "Stripe is down" },
    ]);
  });

  it("still syncs readers' customers when Stripe's list fails", async () => {
    const synced: string[] = [];
    const sync = async (customerId: string): Promise<SyncResult> => {
      synced.push(customerId);
      return { kind: "unknown-customer", customerId };
    };

    const report = await repairSubscriptions(
      stripeListing(new Error("offline")),
      db,
      sync,
    );
    expect(synced.sort()).toEqual(["cus_ann", "cus_bob"]);
    expect(report.failures).toEqual([
      { what: "the subscription list", message: "offline" },
    ]);
  });
});
