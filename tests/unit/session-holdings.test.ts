import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReaderSessionAdapter } from "../../server/auth/lucia.ts";
import { hashSessionId } from "../../server/auth/session-ids.ts";
import {
  type ReaderHoldings,
  readEntitlement,
  resolveReaderTier,
} from "../../server/billing/entitlements.ts";
import { type Db, openDatabase, prepared } from "../../server/db/database.ts";

/**
 * The one query every signed-in request makes: the session, its reader and
 * what the reader holds. The tier worked out from it must be the tier
 * readEntitlement reads, and a change stored by anyone must show on the next
 * request.
 */

const now = Date.UTC(2026, 5, 15, 12) / 1000;
const DAY = 86_400;

let folder: string;
let db: Db;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tierwall-holdings-"));
  db = openDatabase(join(folder, "tierwall.db"));
  db.prepare(
    "INSERT INTO user (id, email, password_hash, created_at) VALUES ('r1', 'r1@example.com', 'x', ?)",
  ).run(now);
  db.prepare("INSERT INTO session (id, expires_at, user_id) VALUES (?, ?, 'r1')").run(
    hashSessionId("s1"),
    now + 20 * DAY,
  );
});

afterEach(async () => {
  db.close();
  await rm(folder, { recursive: true, force: true });
});

function addSubscription(
  id: string,
  tier: string,
  status: string,
  extra: { cancelAt?: number; pastDueSince?: number } = {},
): void {
  db.prepare(
    `INSERT INTO subscription (id, user_id, customer_id, status, tier, cancel_at,
       past_due_since, stripe_created, updated_at)
     VALUES (?, 'r1', 'cus_1', ?, ?, ?, ?, ?, ?)`,
  ).run(id, status, tier, extra.cancelAt ?? null, extra.pastDueSince ?? null, now, now);
}

async function holdings(adapter = new ReaderSessionAdapter(db)): Promise<ReaderHoldings> {
  const [session, user] = await adapter.getSessionAndUser("s1");
  expect(session?.userId).toBe("r1");
  if (!user) throw new Error("the session came back without its reader");
  return user.attributes.holdings;
}

describe("the session read with its reader's holdings", () => {
  it("returns the session and reader as Lucia's own adapter would", async () => {
    const [session, user] = await new ReaderSessionAdapter(db).getSessionAndUser("s1");
    expect(session).toEqual({
      id: "s1",
      userId: "r1",
      expiresAt: new Date((now + 20 * DAY) * 1000),
      attributes: {},
    });
    expect(user?.id).toBe("r1");
    expect(user?.attributes).toMatchObject({
      email: "r1@example.com",
      email_verified: 0,
      stripe_customer_id: null,
    });
    expect(await new ReaderSessionAdapter(db).getSessionAndUser("nope")).toEqual([
      null,
      null,
    ]);
  });

  it("gives the tier readEntitlement gives, whatever the reader holds", async () => {
    const cases: Array<() => void> = [
      () => {},
      () => addSubscription("sub_a", "spark", "active"),
      () => addSubscription("sub_b", "lightning", "canceled"),
      () => addSubscription("sub_c", "core", "past_due", { pastDueSince: now - DAY }),
      () =>
        db
          .prepare(
            "INSERT INTO complimentary_access (user_id, tier, until, granted_at) VALUES ('r1', 'lightning', ?, ?)",
          )
          .run(now - 1, now),
      () => db.prepare("UPDATE complimentary_access SET until = NULL").run(),
      () => db.prepare("UPDATE complimentary_access SET tier = 'gone'").run(),
    ];
    const seen: string[] = [];
    for (const change of cases) {
      change();
      const tier = resolveReaderTier(await holdings(), now);
      expect(tier).toBe(readEntitlement(db, "r1", now).tier);
      seen.push(tier);
    }
    expect(seen).toEqual(["free", "spark", "spark", "core", "core", "lightning", "core"]);
  });

  it("sees a change another connection stores, on the very next read", async () => {
    const adapter = new ReaderSessionAdapter(db);
    addSubscription("sub_a", "core", "active");
    expect(resolveReaderTier(await holdings(adapter), now)).toBe("core");

    const other = openDatabase(join(folder, "tierwall.db"));
    other.prepare("UPDATE subscription SET status = 'canceled'").run();
    other.close();
    expect(resolveReaderTier(await holdings(adapter), now)).toBe("free");
  });

  it("comes back without a reader when the reader is gone", async () => {
    db.pragma("foreign_keys = OFF");
    db.prepare("DELETE FROM user WHERE id = 'r1'").run();
    const [session, user] = await new ReaderSessionAdapter(db).getSessionAndUser("s1");
    expect(session?.id).toBe("s1");
    expect(user).toBeNull();
  });
});

describe("statements compiled once per connection", () => {
  it("reuses a connection's statement and never shares it with another", () => {
    const sql = "SELECT count(*) AS n FROM user";
    expect(prepared(db, sql)).toBe(prepared(db, sql));
    const other = openDatabase(join(folder, "tierwall.db"));
    expect(prepared(other, sql)).not.toBe(prepared(db, sql));
    other.close();
  });
});
