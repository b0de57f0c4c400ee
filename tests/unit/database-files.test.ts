import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Db,
  openDatabase,
  truncateWriteAheadLog,
} from "../../server/db/database.ts";

/**
 * What an emptied row leaves in the files on disk: the raw bytes of the
 * database and its write-ahead log, searched for a secret a row once held.
 */

const SECRET = "link-secret-7f3a9c1e5b2d4f60a8e1";

let folder: string;
let path: string;
let db: Db;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tierwall-residue-"));
  path = join(folder, "tierwall.db");
  db = openDatabase(path);
});

afterEach(async () => {
  db.close();
  await rm(folder, { recursive: true, force: true });
});

function bytesOnDisk(): string {
  return ["", "-wal"]
    .map((suffix) => {
      try {
        return readFileSync(`${path}${suffix}`).toString("latin1");
      } catch {
        return "";
      }
    })
    .join("");
}

/**
 * A sign-in link email as the outbox keeps it while it waits: its data, and
 * its rendered HTML, long enough to spill onto overflow pages as real emails
 * do. Then it is sent, and the row keeps neither.
 */
function queueAndEmpty(): void {
  const url = `https://stacker.example/login/link/#token=${SECRET}`;
  const html = `<p>${"Sign in to The Stacker. ".repeat(250)}<a href="${url}">Sign in</a></p>`;
  db.prepare(
    `INSERT INTO outbox (to_address, template, data, rendered, idempotency_key,
       status, attempts, next_attempt_at, created_at)
     VALUES ('mara@example.com', 'sign-in-link', ?, ?, 'k1', 'pending', 0, 0, 0)`,
  ).run(JSON.stringify({ url }), html);
  truncateWriteAheadLog(db);
  db.prepare("UPDATE outbox SET data = '{}', rendered = NULL, status = 'sent'").run();
}

describe("a row emptied of a secret", () => {
  it("leaves nothing in the database file's freed pages", () => {
    queueAndEmpty();
    truncateWriteAheadLog(db);
    expect(bytesOnDisk()).not.toContain(SECRET);
  });

  it("leaves nothing in the write-ahead log once it is truncated", () => {
    db.prepare(
      `INSERT INTO outbox (to_address, template, data, idempotency_key, status,
         attempts, next_attempt_at, created_at)
       VALUES ('mara@example.com', 'sign-in-link', ?, 'k2', 'pending', 0, 0, 0)`,
    ).run(JSON.stringify({ url: `#token=${SECRET}` }));
    db.prepare("UPDATE outbox SET data = '{}' WHERE idempotency_key = 'k2'").run();
    expect(readFileSync(`${path}-wal`).toString("latin1")).toContain(SECRET);

    expect(truncateWriteAheadLog(db)).toBe(true);
    expect(bytesOnDisk()).not.toContain(SECRET);
  });
});

describe("a new database", () => {
  it("is readable by its owner only, with its folder and its log files", async () => {
    const nested = join(folder, "data", "tierwall.db");
    const created = openDatabase(nested);
    created.prepare("INSERT INTO schema_migration VALUES (999, 'x', 0)").run();
    try {
      expect(statSync(join(folder, "data")).mode & 0o777).toBe(0o700);
      for (const suffix of ["", "-wal", "-shm"]) {
        expect(statSync(`${nested}${suffix}`).mode & 0o777).toBe(0o600);
      }
    } finally {
      created.close();
    }
  });
});
