import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkRateLimit,
  clearRateLimit,
  forgiveRateLimitHit,
  type RateLimitPolicy,
  recordRateLimitHit,
  takeRateLimitHits,
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

  it("count nothing when one of the buckets is full, and answer the longest wait", () => {
    const db = openDatabase(":memory:");
    const short: RateLimitPolicy = { name: "short", limit: 5, windowSeconds: 30 };
    for (let hit = 0; hit < 3; hit++) recordRateLimitHit(db, policy, "a", 1000);

    expect(
      takeRateLimitHits(
        db,
        [
          [short, "b"],
          [policy, "a"],
        ],
        1010,
      ),
    ).toEqual({
      limited: true,
      retryAfterSeconds: 50,
    });
    expect(takeRateLimitHits(db, [[short, "b"]], 1010)).toEqual({ limited: false });
    const row = db.prepare("SELECT sum(hits) AS hits FROM rate_limit").get();
    expect(row).toEqual({ hits: 4 });
  });
});

describe("rate limits shared by server processes", () => {
  // Each racer tries 1.5 times each limit: together they ask three times.
  const BUCKETS = 100;
  const LIMIT = 40;
  const ATTEMPTS_PER_BUCKET = 60;

  /** Starts a racer process and resolves once it has opened the database. */
  function startRacer(path: string) {
    const race = [BUCKETS, ATTEMPTS_PER_BUCKET, LIMIT].map(String);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "rate-limit-racer.ts"),
        path,
        ...race,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines: string[] = [];
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      lines.push(...parts);
    });
    const waitFor = (count: number): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (lines.length >= count) resolve(lines);
          else if (child.exitCode !== null) reject(new Error("a racer died"));
          else setTimeout(check, 5);
        };
        check();
      });
    return { child, waitFor };
  }

  it("let exactly the limit through when two processes race for the same buckets", async () => {
    const folder = mkdtempSync(join(tmpdir(), "tierwall-rate-race-"));
    const path = join(folder, "race.db");
    openDatabase(path).close();
    const racers = [startRacer(path), startRacer(path)];
    try {
      await Promise.all(racers.map((racer) => racer.waitFor(1)));
      for (const { child } of racers) (child as ChildProcess).stdin?.write("go\n");
      const answers = await Promise.all(racers.map((racer) => racer.waitFor(2)));

      // Each racer alone would get every hit it asked for up to the limit;
      // together they must not get one more.
      const through = answers.map((lines) => Number(lines[1]));
      expect((through[0] ?? 0) + (through[1] ?? 0)).toBe(BUCKETS * LIMIT);
    } finally {
      for (const { child } of racers) child.kill();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 30_000);
});
