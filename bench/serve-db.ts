import { randomBytes } from "node:crypto";
import { hashPassword } from "../server/auth/password.ts";
import { hashSessionId } from "../server/auth/session-ids.ts";
import { openDatabase } from "../server/db/database.ts";

/**
 * The readers of the serving benchmark: a database migrated like the server's
 * own, holding `readers` accounts. The first `entitled` of them hold an active
 * subscription and a live session, which the load rotates through. Rows are inserted directly and
 * share one password hash, since hashing thousands of passwords would only
 * time argon2.
 */

export interface SeededReaders {
  /** Session ids of readers whose stored subscription opens every post. */
  entitledSessions: string[];
  /** Those readers' ids, in the same order. */
  entitledIds: string[];
  readers: number;
}

export interface SeedOptions {
  path: string;
  readers: number;
  /** How many entitled readers the load rotates through. */
  entitled: number;
  /** Tier id of the entitled readers' subscription. */
  tier: string;
}

const DAY = 24 * 60 * 60;

export async function seedReaders(options: SeedOptions): Promise<SeededReaders> {
  const db = openDatabase(options.path);
  const passwordHash = await hashPassword("bench-reader-password");
  const now = Math.floor(Date.now() / 1000);
  const entitledSessions: string[] = [];
  const entitledIds: string[] = [];

  const insertUser = db.prepare(
    `INSERT INTO user (id, email, password_hash, email_verified, stripe_customer_id, created_at)
     VALUES (?, ?, ?, 1, ?, ?)`,
  );
  // Sessions start fresh (30 days left), so none crosses half its life and
  // gets refreshed during the run: every answer is the steady state.
  const insertSession = db.prepare(
    "INSERT INTO session (id, expires_at, user_id) VALUES (?, ?, ?)",
  );
  const insertSubscription = db.prepare(
    `INSERT INTO subscription (id, user_id, customer_id, status, tier, price_id,
       billing_interval, current_period_end, cancel_at_period_end, stripe_created, updated_at)
     VALUES (?, ?, ?, 'active', ?, 'price_bench', 'month', ?, 0, ?, ?)`,
  );

  db.transaction(() => {
    for (let index = 0; index < options.readers; index++) {
      const id = `reader${String(index).padStart(6, "0")}`;
      const entitled = index < options.entitled;
      const customer = entitled ? `cus_bench_${index}` : null;
      insertUser.run(id, `${id}@bench.example`, passwordHash, customer, now - 90 * DAY);

      if (entitled && customer) {
        const sub = `sub_bench_${index}`;
        insertSubscription.run(
          sub,
          id,
          customer,
          options.tier,
          now + 20 * DAY,
          now - DAY,
          now,
        );
        const sessionId = randomBytes(20).toString("hex");
        insertSession.run(hashSessionId(sessionId), now + 30 * DAY, id);
        entitledSessions.push(sessionId);
        entitledIds.push(id);
      }
    }
  })();
  db.close();
  return { entitledSessions, entitledIds, readers: options.readers };
}
