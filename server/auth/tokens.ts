import { createHash, randomBytes } from "node:crypto";
import { generateIdFromEntropySize } from "lucia";
import type { Db } from "../db/database.ts";

/**
 * The secrets in the links Tierwall emails to readers. A token is 32 random
 * bytes in base64url; the `auth_token` table keeps only its SHA-256, so a copy
 * of the database opens no account. Each token has one purpose, belongs to one
 * reader, expires, and works once: using it is a conditional UPDATE that only
 * one request can win, run in the same transaction as the change it allows.
 */

export type TokenPurpose = "verify-email" | "sign-in" | "password-reset" | "change-email";

const HOUR = 60 * 60;

export const TOKEN_LIFETIME_SECONDS: Readonly<Record<TokenPurpose, number>> = {
  "verify-email": 48 * HOUR,
  "change-email": 48 * HOUR,
  "sign-in": 15 * 60,
  "password-reset": HOUR,
};

/** Used and expired rows stay this long, so a late click learns what happened. */
const KEEP_AFTER_EXPIRY_SECONDS = 7 * 24 * HOUR;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedToken {
  /** A public handle: email idempotency keys and logs use it, never the token. */
  id: string;
  /** The secret for the link. It exists only in this value and in the email. */
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface TokenRecord {
  id: string;
  purpose: TokenPurpose;
  userId: string;
  newEmail: string | null;
  expiresAt: number;
}

export type TokenLookup =
  | { ok: true; record: TokenRecord }
  | { ok: false; reason: "invalid" | "used" | "expired" };

interface TokenRow {
  id: string;
  purpose: TokenPurpose;
  user_id: string;
  new_email: string | null;
  expires_at: number;
  used_at: number | null;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Creates a token and replaces the reader's unused ones of the same purpose, so
 * only the newest link works. Run it in the transaction that queues the email.
 */
export function issueToken(
  db: Db,
  request: { userId: string; purpose: TokenPurpose; newEmail?: string },
  nowSeconds: number,
): IssuedToken {
  const issued = prepareToken(db, request.userId, request.purpose, nowSeconds);
  db.prepare(
    `INSERT INTO auth_token (id, token_hash, purpose, user_id, new_email, created_at,
                             expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    issued.id,
    hashToken(issued.token),
    request.purpose,
    request.userId,
    request.newEmail ?? null,
    nowSeconds,
    issued.expiresAt,
  );
  return issued;
}

/**
 * Does the work of issuing a token for a reader who does not exist: the same
 * statements and the same hashing, short of storing the token. A request for
 * a link to an unknown address runs it, so that its answer takes as long as
 * one for an address with an account (see link-requests.ts).
 */
export function issueDecoyToken(db: Db, purpose: TokenPurpose, nowSeconds: number): void {
  const decoy = prepareToken(db, "", purpose, nowSeconds);
  hashToken(decoy.token);
}

/** Replaces the reader's unused tokens of this purpose and makes a new one. */
function prepareToken(
  db: Db,
  userId: string,
  purpose: TokenPurpose,
  nowSeconds: number,
): IssuedToken {
  invalidateTokens(db, userId, [purpose]);
  db.prepare("DELETE FROM auth_token WHERE expires_at <= ?").run(
    nowSeconds - KEEP_AFTER_EXPIRY_SECONDS,
  );

  return {
    id: generateIdFromEntropySize(10),
    token: randomBytes(32).toString("base64url"),
    expiresAt: nowSeconds + TOKEN_LIFETIME_SECONDS[purpose],
  };
}

/** Looks a token up without using it: a cheap check before expensive work. */
export function findToken(
  db: Db,
  token: string,
  purposes: readonly TokenPurpose[],
  nowSeconds: number,
): TokenLookup {
  const row = readRow(db, token, purposes);
  if (!row) return { ok: false, reason: "invalid" };
  if (row.used_at !== null) return { ok: false, reason: "used" };
  if (row.expires_at <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, record: toRecord(row) };
}

/**
 * Uses a token up. Of two requests presenting it at once, exactly one gets the
 * record; call it inside the transaction that makes the change it allows, so
 * that a failed change leaves the token unused.
 */
export function consumeToken(
  db: Db,
  token: string,
  purposes: readonly TokenPurpose[],
  nowSeconds: number,
): TokenLookup {
  if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: "invalid" };

  const row = db
    .prepare(
      `UPDATE auth_token SET used_at = @now
        WHERE token_hash = @hash AND used_at IS NULL AND expires_at > @now
          AND purpose IN (SELECT value FROM json_each(@purposes))
       RETURNING id, purpose, user_id, new_email, expires_at, used_at`,
    )
    .get({
      now: nowSeconds,
      hash: hashToken(token),
      purposes: JSON.stringify(purposes),
    }) as TokenRow | undefined;
  if (row) return { ok: true, record: toRecord(row) };
  return findToken(db, token, purposes, nowSeconds);
}

/** Makes the reader's unused links of these purposes (all by default) dead. */
export function invalidateTokens(
  db: Db,
  userId: string,
  purposes: readonly TokenPurpose[] = Object.keys(
    TOKEN_LIFETIME_SECONDS,
  ) as TokenPurpose[],
): void {
  db.prepare(
    `DELETE FROM auth_token
      WHERE user_id = ? AND used_at IS NULL
        AND purpose IN (SELECT value FROM json_each(?))`,
  ).run(userId, JSON.stringify(purposes));
}

function readRow(
  db: Db,
  token: string,
  purposes: readonly TokenPurpose[],
): TokenRow | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return db
    .prepare(
      `SELECT id, purpose, user_id, new_email, expires_at, used_at FROM auth_token
        WHERE token_hash = ? AND purpose IN (SELECT value FROM json_each(?))`,
    )
    .get(hashToken(token), JSON.stringify(purposes)) as TokenRow | undefined;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    purpose: row.purpose,
    userId: row.user_id,
    newEmail: row.new_email,
    expiresAt: row.expires_at,
  };
}
