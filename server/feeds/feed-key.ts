import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { logInfo } from "../log.ts";

/**
 * The server's feed key: it turns the seed stored for a reader into their feed
 * address. The database holds only the seed and the address's hash, so a copy
 * of the database alone reveals no address, while the account page can still
 * show a reader theirs each time they look.
 *
 * Production sets FEED_TOKEN_SECRET. Without it, a random key is created once in
 * `feed-token.key` beside the database, which keeps the offline demo working.
 * A new key gives each reader a new address the next time they open their
 * account page; the old one stops working then.
 */

export const FEED_KEY_FILE = "feed-token.key";
const MIN_SECRET_LENGTH = 32;
const KEY_BYTES = 32;

let cached: Buffer | undefined;

export function useFeedKey(): Buffer {
  cached ??= loadFeedKey(
    process.env.FEED_TOKEN_SECRET,
    process.env.DATABASE_PATH ?? "data/tierwall.db",
  );
  return cached;
}

export function loadFeedKey(secret: string | undefined, databasePath: string): Buffer {
  if (secret) {
    checkFeedTokenSecret(secret);
    return Buffer.from(secret, "utf8");
  }
  if (databasePath === ":memory:") return randomBytes(KEY_BYTES);
  return readOrCreateKeyFile(join(dirname(databasePath), FEED_KEY_FILE));
}

/** A FEED_TOKEN_SECRET that is set must be long enough to be a key. */
export function checkFeedTokenSecret(secret: string | undefined): void {
  if (!secret || secret.length >= MIN_SECRET_LENGTH) return;
  throw new Error(
    `FEED_TOKEN_SECRET is too short (${secret.length} characters): use at least ` +
      `${MIN_SECRET_LENGTH} random characters, e.g. from \`openssl rand -base64 32\``,
  );
}

function readOrCreateKeyFile(file: string): Buffer {
  const existing = readKeyFile(file);
  if (existing) return existing;

  mkdirSync(dirname(file), { recursive: true });
  try {
    const key = randomBytes(KEY_BYTES).toString("base64url");
    writeFileSync(file, `${key}\n`, { flag: "wx", mode: 0o600 });
    logInfo("feeds", `FEED_TOKEN_SECRET is not set: created the feed key ${file}`);
  } catch (error) {
    // Another process created it first; use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }

  const created = readKeyFile(file);
  if (created) return created;
  throw new Error(`[feeds] ${file} could not be read back after it was created`);
}

function readKeyFile(file: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }

  const key = Buffer.from(text.trim(), "base64url");
  if (key.length >= KEY_BYTES) return key;
  throw new Error(
    `[feeds] ${file} does not hold a usable key. Fix: delete it (every reader then ` +
      "gets a new feed address) or set FEED_TOKEN_SECRET",
  );
}
