import { beforeEach, describe, expect, it } from "vitest";
import {
  describeGrant,
  grantComplimentary,
  listComplimentary,
  parseUntil,
  revokeComplimentary,
} from "../../server/billing/complimentary.ts";
import { readEntitlement } from "../../server/billing/entitlements.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";
import tierwall from "../../tierwall.config.ts";

const now = Date.UTC(2026, 5, 15, 12) / 1000;

function addUser(db: Db, id: string, email: string): void {
  db.prepare(
    "INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, 'x', ?)",
  ).run(id, email, now);
}

describe("the --until date", () => {
  it("runs through the end of the day, UTC", () => {
    expect(parseUntil("2027-01-31", now)).toEqual({
      kind: "ok",
      until: Date.UTC(2027, 0, 31, 23, 59, 59) / 1000,
    });
    expect(parseUntil("2026-06-15", now).kind).toBe("ok");
    expect(parseUntil(undefined, now)).toEqual({ kind: "ok", until: null });
  });

  it("refuses a day that is over, and anything that is not a date", () => {
    expect(parseUntil("2026-06-14", now).kind).toBe("past");
    for (const text of ["31/01/2027", "2027-1-31", "soon", ""]) {
      expect(parseUntil(text, now).kind).toBe("malformed");
    }
    expect(parseUntil("2027-02-30", now).kind).toBe("no-such-day");
  });
});

describe("complimentary access", () => {
  let db: Db;
  beforeEach(() => {
    db = openDatabase(":memory:");
    addUser(db, "user_a", "mara@example.com");
  });

  it("raises the reader's effective tier until it ends", () => {
    const until = now + 86_400;
    const outcome = grantComplimentary(
      db,
      tierwall.tiers,
      { email: "MARA@example.com", tier: "core", until, note: "reviewer" },
      now,
    );
    expect(outcome.kind).toBe("granted");

    expect(readEntitlement(db, "user_a", now)).toMatchObject({
      tier: "core",
      subscription: null,
      complimentary: { tier: "core", until },
    });
    expect(readEntitlement(db, "user_a", until + 1)).toMatchObject({
      tier: "free",
      complimentary: null,
    });
  });

  it("refuses the free tier and unknown tiers, listing the paid ones", () => {
    for (const tier of ["free", "platinum"]) {
      const outcome = grantComplimentary(db, tierwall.tiers, {
        email: "mara@example.com",
        tier,
        until: null,
      });
      expect(outcome).toMatchObject({ kind: "not-a-paid-tier", tier });
      if (outcome.kind === "not-a-paid-tier") {
        expect(outcome.paidTiers.map((t) => t.id)).toEqual([
          "spark",
          "core",
          "lightning",
        ]);
      }
    }
    expect(listComplimentary(db)).toEqual([]);
  });

  it("refuses a reader who has not signed up", () => {
    const outcome = grantComplimentary(db, tierwall.tiers, {
      email: "nobody@example.com",
      tier: "core",
      until: null,
    });
    expect(outcome).toEqual({ kind: "unknown-reader", email: "nobody@example.com" });
  });

  it("replaces an earlier grant, and revoking removes it", () => {
    const request = { email: "mara@example.com", until: null };
    grantComplimentary(db, tierwall.tiers, { ...request, tier: "spark" }, now);
    const second = grantComplimentary(db, tierwall.tiers, {
      ...request,
      tier: "lightning",
    });
    expect(second.kind === "granted" && second.replaced?.tier).toBe("spark");
    expect(listComplimentary(db).map((grant) => grant.tier)).toEqual(["lightning"]);

    expect(revokeComplimentary(db, "mara@example.com").kind).toBe("revoked");
    expect(revokeComplimentary(db, "mara@example.com").kind).toBe("no-grant");
    expect(readEntitlement(db, "user_a", now).tier).toBe("free");
  });

  it("describes a grant in words", () => {
    const until = Date.UTC(2027, 0, 31, 23, 59, 59) / 1000;
    expect(describeGrant(tierwall.tiers, { tier: "core", until })).toBe(
      "Core Stacker until 31 January 2027",
    );
    expect(describeGrant(tierwall.tiers, { tier: "core", until: null })).toBe(
      "Core Stacker, no end date",
    );
  });
});
