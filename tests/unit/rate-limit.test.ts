import { describe, expect, it } from "vitest";
import {
  checkRateLimit,
  clearRateLimit,
  forgiveRateLimitHit,
  type RateLimitPolicy,
  recordRateLimitHit,
} from "../../server/auth/rate-limit.ts";
import { openDatabase } from "../../server/db/database.ts";

const policy: RateLimitPolicy = { name: "test", limit: 3, windowSeconds: 60 };

describe("rate limits", () => {
  it("limit a key after `limit` hits until its window ends", () => {
    const db = openDatabase(":memory:");
    for (let second = 0; second < 3; second++) {
      expect(checkRateLimit(db, policy, "a", 1000 + second)).toEqual({ limited: false });
      recordRateLimitHit(db, policy, "a", 1000 + second);
    }

    expect(checkRateLimit(db, policy, "a", 1010)).toEqual({
      limited: true,
      retryAfterSeconds: 50,
    });
    expect(checkRateLimit(db, policy, "b", 1010)).toEqual({ limited: false });
    expect(checkRateLimit(db, policy, "a", 1060)).toEqual({ limited: false });
  });

  it("start a fresh window once the old one has ended", () => {
    const db = openDatabase(":memory:");
    for (let hit = 0; hit < 3; hit++) recordRateLimitHit(db, policy, "a", 1000);
    recordRateLimitHit(db, policy, "a", 1061);

    expect(checkRateLimit(db, policy, "a", 1062)).toEqual({ limited: false });
    const row = db.prepare("SELECT hits, window_start FROM rate_limit").get();
    expect(row).toEqual({ hits: 1, window_start: 1061 });
  });

  it("forget a key when cleared, and never store the key itself", () => {
    const db = openDatabase(":memory:");
    for (let hit = 0; hit < 3; hit++)
      recordRateLimitHit(db, policy, "mara@example.com", 1000);
    const buckets = db.prepare("SELECT bucket FROM rate_limit").all() as {
      bucket: string;
    }[];
    expect(buckets.map((b) => b.bucket).join()).not.toContain("mara");

    clearRateLimit(db, policy, "mara@example.com");
    expect(checkRateLimit(db, policy, "mara@example.com", 1001)).toEqual({
      limited: false,
    });
  });

  it("take back one hit when an attempt counted in advance succeeds", () => {
    const db = openDatabase(":memory:");
    for (let hit = 0; hit < 3; hit++) recordRateLimitHit(db, policy, "a", 1000);
    forgiveRateLimitHit(db, policy, "a");
    expect(checkRateLimit(db, policy, "a", 1001)).toEqual({ limited: false });
  });
});
