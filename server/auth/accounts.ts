import { generateIdFromEntropySize } from "lucia";
import type { Db } from "../db/database.ts";
import { logInfo, logWarn, maskEmail } from "../log.ts";
import type { Credentials } from "./credentials.ts";
import { sendVerificationLink } from "./email-links.ts";
import { hashPassword, verifyDecoyPassword, verifyPassword } from "./password.ts";
import {
  clearRateLimit,
  currentPasswordFailuresPerReader,
  forgiveRateLimitHit,
  signInFailuresPerAddress,
  signInFailuresPerClient,
  signUpsPerClient,
  takeRateLimitHits,
} from "./rate-limit.ts";
import type { Reader } from "./types.ts";

/**
 * Creating accounts, finding readers and checking passwords. `client` is the key the rate limits
 * count against (see server/http/client-ip.ts); credentials arrive already
 * normalised and validated by credentials.ts.
 */

export type SignUpResult =
  | { ok: true; reader: Reader }
  | { ok: false; reason: "email-taken" }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

export type SignInResult =
  | { ok: true; reader: Reader }
  | { ok: false; reason: "invalid-credentials" }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  email_verified: number;
  stripe_customer_id: string | null;
}

export async function signUp(
  db: Db,
  credentials: Credentials,
  client: string,
  nowSeconds: number = unixNow(),
): Promise<SignUpResult> {
  // A taken address is counted too: the 409 it gets tells that the address
  // has an account, and this limit is what keeps that from being a fast way
  // to find out who has one (see the README's "What the forms tell").
  const limit = takeRateLimitHits(db, [[signUpsPerClient, client]], nowSeconds);
  if (limit.limited) return { ok: false, ...rateLimited(limit.retryAfterSeconds) };

  // Checked before hashing so that a taken address costs no argon2 work.
  if (findUserRow(db, credentials.email)) return { ok: false, reason: "email-taken" };

  const passwordHash = await hashPassword(credentials.password);
  const reader = insertReader(db, credentials.email, passwordHash, nowSeconds);
  if (!reader) return { ok: false, reason: "email-taken" };

  logInfo("auth", `new reader ${reader.id} (${maskEmail(reader.email)})`);
  return { ok: true, reader };
}

export async function signIn(
  db: Db,
  credentials: Credentials,
  client: string,
  nowSeconds: number = unixNow(),
): Promise<SignInResult> {
  // IMPORTANT: the attempt is counted as a failure before the password is
  // checked, in the same immediate transaction as the check, so that a burst
  // of parallel guesses, spread over any number of server processes, cannot
  // pass the check while the first ones are still hashing.
  const limit = takeRateLimitHits(
    db,
    [
      [signInFailuresPerAddress, credentials.email],
      [signInFailuresPerClient, client],
    ],
    nowSeconds,
  );
  if (limit.limited) {
    logWarn("auth", "sign-in refused: too many attempts");
    return { ok: false, ...rateLimited(limit.retryAfterSeconds) };
  }

  const row = findUserRow(db, credentials.email);
  const valid = row
    ? await verifyPassword(row.password_hash, credentials.password)
    : await verifyDecoyPassword(credentials.password);
  if (!row || !valid) return { ok: false, reason: "invalid-credentials" };

  clearRateLimit(db, signInFailuresPerAddress, credentials.email);
  forgiveRateLimitHit(db, signInFailuresPerClient, client);
  return { ok: true, reader: toReader(row) };
}

/**
 * Checks the signed-in reader's password before a change that needs it (a new
 * address or password, deleting the account). It counts against a limit of
 * its own, per reader, so a stolen session cannot be used to guess it, while
 * failed sign-ins at the reader's address, which anyone can cause, do not
 * shut the reader out of their own account page.
 */
export async function checkCurrentPassword(
  db: Db,
  reader: Reader,
  password: string,
  nowSeconds: number = unixNow(),
): Promise<SignInResult> {
  // IMPORTANT: counted before the password is checked, as in signIn.
  const limit = takeRateLimitHits(
    db,
    [[currentPasswordFailuresPerReader, reader.id]],
    nowSeconds,
  );
  if (limit.limited) {
    logWarn("auth", `reader ${reader.id}'s password check refused: too many attempts`);
    return { ok: false, ...rateLimited(limit.retryAfterSeconds) };
  }

  const row = findReaderRow(db, reader.id);
  if (!row || !(await verifyPassword(row.password_hash, password))) {
    return { ok: false, reason: "invalid-credentials" };
  }

  clearRateLimit(db, currentPasswordFailuresPerReader, reader.id);
  return { ok: true, reader: toReader(row) };
}

export function findReaderByEmail(db: Db, email: string): Reader | undefined {
  const row = findUserRow(db, email);
  return row && toReader(row);
}

export function findReaderById(db: Db, id: string): Reader | undefined {
  const row = findReaderRow(db, id);
  return row && toReader(row);
}

function findReaderRow(db: Db, id: string): UserRow | undefined {
  return db
    .prepare(
      `SELECT id, email, password_hash, email_verified, stripe_customer_id
         FROM user WHERE id = ?`,
    )
    .get(id) as UserRow | undefined;
}

function findUserRow(db: Db, email: string): UserRow | undefined {
  return db
    .prepare(
      `SELECT id, email, password_hash, email_verified, stripe_customer_id
         FROM user WHERE email = ?`,
    )
    .get(email) as UserRow | undefined;
}

/**
 * Inserts the reader and queues the link that confirms their address, in one
 * transaction; the welcome email follows once they use it. Returns null when a
 * concurrent sign-up took the address first.
 */
function insertReader(
  db: Db,
  email: string,
  passwordHash: string,
  nowSeconds: number,
): Reader | null {
  const id = generateIdFromEntropySize(10);
  const insert = db.transaction(() => {
    db.prepare(
      `INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(email) DO NOTHING`,
    ).run(id, email, passwordHash, nowSeconds);
    if (!db.prepare("SELECT 1 FROM user WHERE id = ?").get(id)) return false;

    sendVerificationLink(db, { id, email }, nowSeconds);
    return true;
  });

  if (!insert.immediate()) return null;
  return { id, email, emailVerified: false, stripeCustomerId: null };
}

function toReader(row: UserRow): Reader {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified === 1,
    stripeCustomerId: row.stripe_customer_id,
  };
}

function rateLimited(retryAfterSeconds: number): {
  reason: "rate-limited";
  retryAfterSeconds: number;
} {
  return { reason: "rate-limited", retryAfterSeconds };
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
