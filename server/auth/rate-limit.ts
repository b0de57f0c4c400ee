import { createHash } from "node:crypto";
import type { Db } from "../db/database.ts";

/**
 * Attempt counters in fixed windows, stored in SQLite so that restarting the
 * server does not hand an attacker a fresh set of guesses. Keys (addresses, IPs)
 * are stored hashed: the table says how often, never who.
 */

export interface RateLimitPolicy {
  name: string;
  limit: number;
  windowSeconds: number;
}

/** Wrong passwords for one address: slows guessing at a single account. */
export const signInFailuresPerAddress: RateLimitPolicy = {
  name: "signin-address",
  limit: 10,
  windowSeconds: 15 * 60,
};

/** Wrong passwords from one client: slows trying one password on many accounts. */
export const signInFailuresPerClient: RateLimitPolicy = {
  name: "signin-client",
  limit: 50,
  windowSeconds: 15 * 60,
};

/**
 * Wrong current passwords on the account page, per signed-in reader: slows a
 * stolen session guessing the password. Apart from the sign-in limits, so
 * that a stranger locking an address by failed sign-ins does not also lock
 * its reader, signed in already, out of their own account page.
 */
export const currentPasswordFailuresPerReader: RateLimitPolicy = {
  name: "current-password-reader",
  limit: 10,
  windowSeconds: 15 * 60,
};

/** New accounts from one client. */
export const signUpsPerClient: RateLimitPolicy = {
  name: "signup-client",
  limit: 30,
  windowSeconds: 60 * 60,
};

/**
 * Emailed links. Each request sends an email to an address the requester
 * typed, so these limits keep Tierwall from being used to flood a mailbox, and
 * they count whether or not the address has an account, so a 429 says nothing
 * about who has one.
 */
export const passwordResetsPerAddress: RateLimitPolicy = {
  name: "reset-address",
  limit: 5,
  windowSeconds: 60 * 60,
};

export const passwordResetsPerClient: RateLimitPolicy = {
  name: "reset-client",
  limit: 20,
  windowSeconds: 60 * 60,
};

export const signInLinksPerAddress: RateLimitPolicy = {
  name: "signin-link-address",
  limit: 5,
  windowSeconds: 60 * 60,
};

export const signInLinksPerClient: RateLimitPolicy = {
  name: "signin-link-client",
  limit: 20,
  windowSeconds: 60 * 60,
};

/** Confirmation links: "send the link again", and a change to a new address. */
export const verificationEmailsPerAddress: RateLimitPolicy = {
  name: "verify-address",
  limit: 5,
  windowSeconds: 60 * 60,
};

export const verificationEmailsPerClient: RateLimitPolicy = {
  name: "verify-client",
  limit: 20,
  windowSeconds: 60 * 60,
};

export type RateLimitVerdict =
  | { limited: false }
  | { limited: true; retryAfterSeconds: number };

/**
 * Reads one bucket. This and recordRateLimitHit are the building blocks of
 * takeRateLimitHits: called one after the other outside its transaction,
 * another server process can count between them, so a limit should be
 * enforced through takeRateLimitHits.
 */
export function checkRateLimit(
  db: Db,
  policy: RateLimitPolicy,
  key: string,
  nowSeconds: number,
): RateLimitVerdict {
  const row = db
    .prepare("SELECT hits, expires_at FROM rate_limit WHERE bucket = ?")
    .get(bucketFor(policy, key)) as { hits: number; expires_at: number } | undefined;

  if (!row || row.expires_at <= nowSeconds || row.hits < policy.limit) {
    return { limited: false };
  }
  return { limited: true, retryAfterSeconds: Math.max(1, row.expires_at - nowSeconds) };
}

export function recordRateLimitHit(
  db: Db,
  policy: RateLimitPolicy,
  key: string,
  nowSeconds: number,
): void {
  // SQLite evaluates every SET expression against the row as it was, so an
  // expired window restarts at one hit and a live one counts up.
  db.prepare(
    `INSERT INTO rate_limit (bucket, hits, window_start, expires_at)
     VALUES (@bucket, 1, @now, @expires)
     ON CONFLICT(bucket) DO UPDATE SET
       hits = CASE WHEN expires_at <= @now THEN 1 ELSE hits + 1 END,
       window_start = CASE WHEN expires_at <= @now THEN @now ELSE window_start END,
       expires_at = CASE WHEN expires_at <= @now THEN @expires ELSE expires_at END`,
  ).run({
    bucket: bucketFor(policy, key),
    now: nowSeconds,
    expires: nowSeconds + policy.windowSeconds,
  });

  db.prepare("DELETE FROM rate_limit WHERE expires_at <= ?").run(nowSeconds);
}

/** Takes back one hit, for an attempt that was counted before it turned out fine. */
export function forgiveRateLimitHit(db: Db, policy: RateLimitPolicy, key: string): void {
  db.prepare("UPDATE rate_limit SET hits = max(hits - 1, 0) WHERE bucket = ?").run(
    bucketFor(policy, key),
  );
}

export function clearRateLimit(db: Db, policy: RateLimitPolicy, key: string): void {
  db.prepare("DELETE FROM rate_limit WHERE bucket = ?").run(bucketFor(policy, key));
}

function bucketFor(policy: RateLimitPolicy, key: string): string {
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 32);
  return `${policy.name}:${digest}`;
}

/**
 * Counts one attempt against every bucket, unless one of them is already full:
 * then nothing is counted and the longest wait comes back. Check and count run
 * in one immediate transaction, so parallel requests cannot all slip through,
 * in this process or another server process on the same database: the write
 * lock is taken before the counters are read (a read-then-write transaction
 * that took it later could fail with SQLITE_BUSY instead of waiting).
 */
export function takeRateLimitHits(
  db: Db,
  buckets: readonly (readonly [RateLimitPolicy, string])[],
  nowSeconds: number,
): RateLimitVerdict {
  return db.transaction(() => countHits(db, buckets, nowSeconds)).immediate();
}

function countHits(
  db: Db,
  buckets: readonly (readonly [RateLimitPolicy, string])[],
  nowSeconds: number,
): RateLimitVerdict {
  let retryAfterSeconds = 0;
  for (const [policy, key] of buckets) {
    const verdict = checkRateLimit(db, policy, key, nowSeconds);
    if (verdict.limited) {
      retryAfterSeconds = Math.max(retryAfterSeconds, verdict.retryAfterSeconds);
    }
  }
  if (retryAfterSeconds > 0) return { limited: true, retryAfterSeconds };

  for (const [policy, key] of buckets) recordRateLimitHit(db, policy, key, nowSeconds);
  return { limited: false };
}
