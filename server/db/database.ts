import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { migrations } from "./migrations.ts";

export type Db = Database.Database;
export type Statement = Database.Statement;

let instance: Db | undefined;
const statements = new WeakMap<Db, Map<string, Statement>>();

/** The process's one database connection, opened and migrated on first use. */
export function useDb(): Db {
  instance ??= openDatabase(process.env.DATABASE_PATH ?? "data/tierwall.db");
  return instance;
}

/**
 * The statement for `sql`, compiled once per connection and then reused. Every
 * request runs the same few queries (session, subscriptions), and compiling the
 * SQL costs more than running them. For `get`, `all` and `run`: a statement
 * being iterated cannot run again until the iteration ends.
 */
export function prepared(db: Db, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/**
 * SQLite's `data_version`: it moves whenever another connection (another
 * server process, an operator command) commits. It starts a read transaction,
 * which costs a few system calls.
 */
export function readDataVersion(db: Db): number {
  const row = prepared(db, "PRAGMA data_version").get() as { data_version: number };
  return row.data_version;
}

/** Rows this connection has written since it opened: its own commits, for free. */
export function readOwnChanges(db: Db): number {
  const row = prepared(db, "SELECT total_changes() AS changes").get() as {
    changes: number;
  };
  return row.changes;
}

export function openDatabase(path: string): Db {
  if (path !== ":memory:") createPrivately(path);

  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.pragma("synchronous = NORMAL");
  // Deleted and overwritten rows are zeroed, not left in free space: an
  // emptied outbox row must not keep its link in the file.
  db.pragma("secure_delete = ON");
  applyMigrations(db);
  return db;
}

/**
 * A new database (and a new folder for it) is readable by the server's user
 * only: it holds password hashes and sessions. SQLite gives its `-wal` and
 * `-shm` files the database file's mode. An existing file keeps the mode its
 * operator gave it.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, "", { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

export function applyMigrations(db: Db): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migration (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL
  )`);
  const applied = new Set(
    db
      .prepare("SELECT id FROM schema_migration")
      .all()
      .map((row) => (row as { id: number }).id),
  );

  let count = 0;
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    for (const [name, fn] of Object.entries(migration.functions ?? {})) {
      db.function(name, { deterministic: true }, (value) => fn(String(value)));
    }
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare(
        "INSERT INTO schema_migration (id, name, applied_at) VALUES (?, ?, ?)",
      ).run(migration.id, migration.name, Math.floor(Date.now() / 1000));
    })();
    count++;
  }
  return count;
}

/**
 * Copies the write-ahead log into the database and empties it, so that old
 * versions of pages (a link an outbox row held before it was emptied) do not
 * linger in the `-wal` file. It waits for readers like any write; when it
 * cannot finish (a long read in another process), the next one will.
 */
export function truncateWriteAheadLog(db: Db): boolean {
  const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
  return result?.busy === 0;
}

export function closeDb(): void {
  instance?.close();
  instance = undefined;
}
