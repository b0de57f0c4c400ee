import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lucia, TimeSpan } from "lucia";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReaderSessionAdapter } from "../../server/auth/lucia.ts";
import { hashSessionId } from "../../server/auth/session-ids.ts";
import { applyMigrations, type Db, openDatabase } from "../../server/db/database.ts";

/**
 * The session table keeps the hash of each session id, never the id a cookie
 * carries. Lucia, driving the adapter on a real SQLite file, must still find,
 * extend and end a session by the id it was given.
 */

const DAY = 86_400;

let folder: string;
let db: Db;
let lucia: Lucia;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tierwall-session-ids-"));
  db = openDatabase(join(folder, "tierwall.db"));
  const insertReader = db.prepare(
    "INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)",
  );
  insertReader.run("r1", "r1@example.com");
  insertReader.run("r2", "r2@example.com");
  lucia = new Lucia(new ReaderSessionAdapter(db), {
    sessionExpiresIn: new TimeSpan(30, "d"),
  });
});

afterEach(async () => {
  db.close();
  await rm(folder, { recursive: true, force: true });
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function storedIds(): string[] {
  return db
    .prepare("SELECT id FROM session ORDER BY id")
    .all()
    .map((row) => (row as { id: string }).id);
}

function setStoredExpiry(sessionId: string, expiresAt: number): void {
  db.prepare("UPDATE session SET expires_at = ? WHERE id = ?").run(
    expiresAt,
    hashSessionId(sessionId),
  );
}

describe("sessions stored under the hash of their id", () => {
  it("are stored as SHA-256 hex, and found again by the id itself", async () => {
    const session = await lucia.createSession("r1", {});
    expect(storedIds()).toEqual([hashSessionId(session.id)]);
    expect(hashSessionId(session.id)).toMatch(/^[0-9a-f]{64}$/);

    const { session: found, user } = await lucia.validateSession(session.id);
    expect(found).toMatchObject({ id: session.id, userId: "r1", fresh: false });
    expect(user?.id).toBe("r1");
    expect(await lucia.validateSession(hashSessionId(session.id))).toEqual({
      session: null,
      user: null,
    });
  });

  it("are extended and ended by the id the cookie carries", async () => {
    const session = await lucia.createSession("r1", {});
    setStoredExpiry(session.id, nowSeconds() + 10 * DAY);

    const { session: extended } = await lucia.validateSession(session.id);
    expect(extended?.fresh).toBe(true);
    const [row] = db.prepare("SELECT expires_at FROM session").all() as {
      expires_at: number;
    }[];
    expect(row?.expires_at).toBeGreaterThan(nowSeconds() + 29 * DAY);

    await lucia.invalidateSession(session.id);
    expect(storedIds()).toEqual([]);
  });

  it("are deleted when expired, by id or in the sweep, and all at once for a reader", async () => {
    const expired = await lucia.createSession("r1", {});
    setStoredExpiry(expired.id, nowSeconds() - 1);
    expect((await lucia.validateSession(expired.id)).session).toBeNull();
    expect(storedIds()).toEqual([]);

    const swept = await lucia.createSession("r1", {});
    const kept = await lucia.createSession("r2", {});
    setStoredExpiry(swept.id, nowSeconds() - 1);
    await lucia.deleteExpiredSessions();
    expect(storedIds()).toEqual([hashSessionId(kept.id)]);

    await lucia.createSession("r2", {});
    expect((await lucia.getUserSessions("r2")).map((s) => s.userId)).toEqual([
      "r2",
      "r2",
    ]);
    await lucia.invalidateUserSessions("r2");
    expect(storedIds()).toEqual([]);
  });
});

describe("the migration that hashes stored session ids", () => {
  const rawId = "abcdefghijklmnopqrstuvwxyz234567abcdefgh";

  /** The database as a release before the migration left it. */
  function storeUnhashedSession(): void {
    db.prepare("INSERT INTO session (id, expires_at, user_id) VALUES (?, ?, 'r1')").run(
      rawId,
      nowSeconds() + 20 * DAY,
    );
    db.prepare("DELETE FROM schema_migration WHERE name = ?").run(
      "session ids stored hashed",
    );
  }

  it("keeps a reader signed in: the old id is stored hashed and still validates", async () => {
    storeUnhashedSession();
    expect(storedIds()).toEqual([rawId]);

    expect(applyMigrations(db)).toBe(1);
    expect(storedIds()).toEqual([hashSessionId(rawId)]);
    const { session, user } = await lucia.validateSession(rawId);
    expect(session?.id).toBe(rawId);
    expect(user?.id).toBe("r1");
  });

  it("runs once: a later start leaves hashed ids alone", async () => {
    storeUnhashedSession();
    applyMigrations(db);
    db.close();

    db = openDatabase(join(folder, "tierwall.db"));
    lucia = new Lucia(new ReaderSessionAdapter(db));
    expect(applyMigrations(db)).toBe(0);
    expect(storedIds()).toEqual([hashSessionId(rawId)]);
    expect((await lucia.validateSession(rawId)).user?.id).toBe("r1");
  });
});
