import { createHash } from "node:crypto";

/**
 * The `session` table's id for a session: the SHA-256, in hex, of the id the
 * cookie carries. The id itself lives only in the reader's cookie, so a copy
 * of the database (a backup, a stolen file) holds no session anyone could
 * present. An id is 25 random bytes, far too many to guess, so one unsalted
 * hash is enough.
 */
export function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}
