import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionCache } from "../../server/auth/session-cache.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";

/**
 * The session cache on a real SQLite file, with a second connection standing
 * in for another server process or an operator command.
 */

const DAY_MS = 86_400_000;
const now = Date.UTC(2026, 5, 15, 12);

let folder: string;
let db: Db;
let other: Db;
let cache: SessionCache<{ session: { expiresAt: Date }; reader: string }>;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tierwall-session-cache-"));
  db = openDatabase(join(folder, "tierwall.db"));
  other = openDatabase(join(folder, "tierwall.db"));
  cache = new SessionCache(db, 15 * DAY_MS, 3);
});

afterEach(async () => {
  other.close();
  db.close();
  await rm(folder, { recursive: true, force: true });
});

function entry(reader: string, daysLeft = 20) {
  return { session: { expiresAt: new Date(now + daysLeft * DAY_MS) }, reader };
}

function writeWith(connection: Db): void {
  connection
    .prepare(
      "INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)",
    )
    .run(crypto.randomUUID(), `${crypto.randomUUID()}@example.com`);
}

/** What a request would find: a new lookup, as the session middleware makes. */
function lookup(sessionId: string) {
  cache.begin();
  return cache.get(sessionId, now);
}

describe("the session cache", () => {
  it("answers a session seen before while nothing was written", async () => {
    cache.set("s1", entry("mara"), cache.begin());
    expect(lookup("s1")?.reader).toBe("mara");
    await nextTurn();
    expect(lookup("s1")?.reader).toBe("mara");
    expect(lookup("s2")).toBeUndefined();
  });

  it("forgets everything once this process writes to the database", () => {
    cache.set("s1", entry("mara"), cache.begin());
    writeWith(db);
    expect(lookup("s1")).toBeUndefined();
  });

  it("forgets everything once another connection commits, by the next turn", async () => {
    cache.set("s1", entry("mara"), cache.begin());
    writeWith(other);
    await nextTurn();
    expect(lookup("s1")).toBeUndefined();
  });

  it("drops a result read before a change another lookup has already seen", async () => {
    const mark = cache.begin();
    writeWith(other);
    await nextTurn();
    cache.begin();
    cache.set("s1", entry("stale"), mark);
    expect(lookup("s1")).toBeUndefined();
  });

  it("sends a session due for extension back to Lucia", () => {
    cache.set("s1", entry("mara", 14), cache.begin());
    cache.set("s2", entry("noor", 16), cache.begin());
    expect(lookup("s1")).toBeUndefined();
    expect(lookup("s2")?.reader).toBe("noor");
  });

  it("keeps at most its capacity, dropping the oldest first", () => {
    const mark = cache.begin();
    for (const id of ["s1", "s2", "s3", "s4"]) cache.set(id, entry(id), mark);
    expect(lookup("s1")).toBeUndefined();
    expect(["s2", "s3", "s4"].map((id) => lookup(id)?.reader)).toEqual([
      "s2",
      "s3",
      "s4",
    ]);
  });
});
