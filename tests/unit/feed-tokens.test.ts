import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Db, openDatabase } from "../../server/db/database.ts";
import { FEED_KEY_FILE, loadFeedKey } from "../../server/feeds/feed-key.ts";
import {
  ensureFeedToken,
  findFeedReader,
  hashFeedToken,
  resetFeedToken,
} from "../../server/feeds/tokens.ts";

const key = Buffer.alloc(32, 7);
const folder = mkdtempSync(join(tmpdir(), "tierwall-feed-key-"));

afterAll(() => rmSync(folder, { recursive: true, force: true }));

function dbWithReaders(...ids: string[]): Db {
  const db = openDatabase(":memory:");
  for (const id of ids) {
    db.prepare(
      "INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, 'x', 0)",
    ).run(id, `${id}@example.com`);
  }
  return db;
}

describe("feed tokens", () => {
  it("are 32 bytes of base64url, the same each time the reader asks", () => {
    const db = dbWithReaders("r1");
    const token = ensureFeedToken(db, "r1", key);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(ensureFeedToken(db, "r1", key)).toBe(token);
    expect(findFeedReader(db, token)).toBe("r1");
  });

  it("are stored only as a hash", () => {
    const db = dbWithReaders("r1");
    const token = ensureFeedToken(db, "r1", key);
    const rows = db.prepare("SELECT * FROM feed_token").all();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows).toEqual([expect.objectContaining({ token_hash: hashFeedToken(token) })]);
  });

  it("differ between readers", () => {
    const db = dbWithReaders("r1", "r2");
    expect(ensureFeedToken(db, "r1", key)).not.toBe(ensureFeedToken(db, "r2", key));
  });

  it("stop working once reset, and the new one works", () => {
    const db = dbWithReaders("r1");
    const old = ensureFeedToken(db, "r1", key);
    const fresh = resetFeedToken(db, "r1", key);
    expect(fresh).not.toBe(old);
    expect(findFeedReader(db, old)).toBeNull();
    expect(findFeedReader(db, fresh)).toBe("r1");
    expect(ensureFeedToken(db, "r1", key)).toBe(fresh);
  });

  it("are replaced when the feed key changes, since the old one cannot be shown", () => {
    const db = dbWithReaders("r1");
    const old = ensureFeedToken(db, "r1", key);
    const fresh = ensureFeedToken(db, "r1", Buffer.alloc(32, 9));
    expect(fresh).not.toBe(old);
    expect(findFeedReader(db, old)).toBeNull();
  });

  it("find nobody for malformed or unknown tokens", () => {
    const db = dbWithReaders("r1");
    ensureFeedToken(db, "r1", key);
    for (const token of ["", "x", "a".repeat(43), "a".repeat(44), `${"a".repeat(42)}=`]) {
      expect(findFeedReader(db, token)).toBeNull();
    }
  });

  it("vanish with the reader's account", () => {
    const db = dbWithReaders("r1");
    const token = ensureFeedToken(db, "r1", key);
    db.prepare("DELETE FROM user WHERE id = 'r1'").run();
    expect(findFeedReader(db, token)).toBeNull();
  });
});

describe("the feed key", () => {
  it("comes from FEED_TOKEN_SECRET when it is set, and refuses a short one", () => {
    const secret = "s".repeat(32);
    expect(loadFeedKey(secret, join(folder, "a.db"))).toEqual(Buffer.from(secret));
    expect(() => loadFeedKey("short", join(folder, "a.db"))).toThrow(/at least 32/);
  });

  it("is otherwise created once beside the database, readable by its owner only", () => {
    const databasePath = join(folder, "data", "tierwall.db");
    const first = loadFeedKey(undefined, databasePath);
    const file = join(folder, "data", FEED_KEY_FILE);

    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadFeedKey("", databasePath)).toEqual(first);
    expect(readFileSync(file, "utf8").trim()).toBe(first.toString("base64url"));
    expect(statSync(file).mode & 0o077).toBe(0);
  });
});
