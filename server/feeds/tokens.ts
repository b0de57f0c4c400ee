import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Db } from "../db/database.ts";
import { logInfo, logWarn } from "../log.ts";

/**
 * Private feed tokens: the secret part of a reader's feed address. A token is
 * 32 bytes in base64url, the HMAC of a random seed under the server's feed key
 * (feed-key.ts). The `feed_token` table keeps the seed and the token's SHA-256
 * hash, never the token: the hash finds the reader when a feed reader asks,
 * and the seed lets the account page show the same address again.
 *
 * Tokens never go to the log; readers are named by their id.
 */

interface FeedTokenRow {
  token_hash: string;
  seed: string;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashFeedToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The reader whose token this is, or null for a malformed, unknown or reset one. */
export function findFeedReader(db: Db, token: string): string | null {
  if (!TOKEN_PATTERN.test(token)) return null;

  const row = db
    .prepare("SELECT user_id FROM feed_token WHERE token_hash = ?")
    .get(hashFeedToken(token)) as { user_id: string } | undefined;
  return row?.user_id ?? null;
}

/** The reader's token, created on first use. */
export function ensureFeedToken(
  db: Db,
  readerId: string,
  key: Buffer,
  nowSeconds: number = unixNow(),
): string {
  const row = readRow(db, readerId);
  if (!row) return createFeedToken(db, readerId, key, nowSeconds);

  const token = deriveFeedToken(key, readerId, row.seed);
  if (hashFeedToken(token) === row.token_hash) return token;

  logWarn(
    "feeds",
    `reader ${readerId}'s feed address was made with another feed key; replaced`,
  );
  return storeNewToken(db, readerId, key, nowSeconds);
}

/** Replaces the reader's token: the old address stops working at once. */
export function resetFeedToken(
  db: Db,
  readerId: string,
  key: Buffer,
  nowSeconds: number = unixNow(),
): string {
  const token = storeNewToken(db, readerId, key, nowSeconds);
  logInfo("feeds", `reader ${readerId} reset their private feed address`);
  return token;
}

/**
 * Inserts a first token unless one appeared meanwhile, then reads back
 * whichever was stored, so two first requests end with one address.
 */
function createFeedToken(db: Db, readerId: string, key: Buffer, now: number): string {
  const seed = newSeed();
  db.prepare(
    `INSERT INTO feed_token (user_id, token_hash, seed, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(user_id) DO NOTHING`,
  ).run(readerId, hashFeedToken(deriveFeedToken(key, readerId, seed)), seed, now);

  const stored = readRow(db, readerId);
  if (!stored) throw new Error(`[feeds] no feed token was stored for reader ${readerId}`);
  return deriveFeedToken(key, readerId, stored.seed);
}

function storeNewToken(db: Db, readerId: string, key: Buffer, now: number): string {
  const seed = newSeed();
  const token = deriveFeedToken(key, readerId, seed);
  db.prepare(
    `INSERT INTO feed_token (user_id, token_hash, seed, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(user_id) DO UPDATE SET token_hash = excluded.token_hash,
       seed = excluded.seed, created_at = excluded.created_at`,
  ).run(readerId, hashFeedToken(token), seed, now);
  return token;
}

/** The reader's id is part of the input, so a seed copied to another row is useless. */
function deriveFeedToken(key: Buffer, readerId: string, seed: string): string {
  return createHmac("sha256", key)
    .update(`tierwall feed token\0${readerId}\0${seed}`)
    .digest("base64url");
}

function readRow(db: Db, readerId: string): FeedTokenRow | undefined {
  return db
    .prepare("SELECT token_hash, seed FROM feed_token WHERE user_id = ?")
    .get(readerId) as FeedTokenRow | undefined;
}

function newSeed(): string {
  return randomBytes(32).toString("base64url");
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
