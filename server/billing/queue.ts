import { randomUUID } from "node:crypto";
import { createError } from "h3";
import type { Db } from "../db/database.ts";

/**
 * Runs tasks that share a key one after another, in the order they were
 * queued, while tasks with other keys run freely. Used where two overlapping
 * runs for one reader or customer could each act on a stale view of Stripe.
 * A failed task does not stop the ones queued behind it.
 *
 * Given the database, a task also holds a lease named after the queue and the
 * key (the `lease` table) while it runs, so the same holds across every server
 * process on that database: a task for a key another process is running waits
 * for it, however the requests were spread over the processes.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** `name` prefixes the lease names, e.g. "checkout" → "checkout:<user id>". */
  constructor(private readonly name = "queue") {}

  run<T>(key: string, task: () => Promise<T>, db?: Db): Promise<T> {
    const guarded = db ? () => holdLease(db, `${this.name}:${key}`, task) : task;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(guarded, guarded);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/**
 * A lease lasts this long unless renewed; its holder renews it every third of
 * that while the task runs. A process that dies holding one delays the next
 * holder by at most this much.
 */
const LEASE_MS = 15_000;
/** How often a waiting process looks whether the lease is free. */
const POLL_MS = 25;
/** A wait longer than this means something is stuck: answer 503, retry later. */
const MAX_WAIT_MS = 60_000;

export async function holdLease<T>(
  db: Db,
  name: string,
  task: () => Promise<T>,
): Promise<T> {
  const holder = randomUUID();
  await acquireLease(db, name, holder);

  const renewal = setInterval(() => renewLease(db, name, holder), LEASE_MS / 3);
  renewal.unref();
  try {
    return await task();
  } finally {
    clearInterval(renewal);
    db.prepare("DELETE FROM lease WHERE name = ? AND holder = ?").run(name, holder);
  }
}

async function acquireLease(db: Db, name: string, holder: string): Promise<void> {
  const deadline = Date.now() + MAX_WAIT_MS;
  while (!tryAcquireLease(db, name, holder, Date.now())) {
    if (Date.now() > deadline) {
      throw createError({
        statusCode: 503,
        message: "Another request for the same account is still running. Try again.",
      });
    }
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

/**
 * Takes the lease when it is free or has lapsed. A held lease is first seen
 * with a read, so that waiting processes do not queue for the write lock.
 */
function tryAcquireLease(db: Db, name: string, holder: string, nowMs: number): boolean {
  const held = db.prepare("SELECT expires_at FROM lease WHERE name = ?").get(name) as
    | { expires_at: number }
    | undefined;
  if (held && held.expires_at > nowMs) return false;

  const taken = db
    .prepare(
      `INSERT INTO lease (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET holder = excluded.holder,
                                       expires_at = excluded.expires_at
        WHERE lease.expires_at <= ?`,
    )
    .run(name, holder, nowMs + LEASE_MS, nowMs);
  return taken.changes === 1;
}

function renewLease(db: Db, name: string, holder: string): void {
  try {
    db.prepare("UPDATE lease SET expires_at = ? WHERE name = ? AND holder = ?").run(
      Date.now() + LEASE_MS,
      name,
      holder,
    );
  } catch {
    // The next renewal tries again; the lease outlives two missed ones.
  }
}
