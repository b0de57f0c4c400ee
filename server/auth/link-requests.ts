import type { Db } from "../db/database.ts";
import { findReaderByEmail } from "./accounts.ts";
import { type RateLimitPolicy, takeRateLimitHits } from "./rate-limit.ts";
import { issueDecoyToken, type TokenPurpose } from "./tokens.ts";
import type { Reader } from "./types.ts";

/**
 * A request for an emailed link by address: "email me a sign-in link",
 * "forgot your password?". The answer is the same whether or not the address
 * has an account, and so is the time it takes:
 *
 * - both paths run one immediate transaction, which counts the attempt, looks
 *   the address up, and then either issues the reader's token and queues the
 *   email or does the decoy work of issuing one (the same deletes, the same
 *   random bytes and hashing) and stores nothing;
 * - both commit once, and neither waits for a disk flush (WAL with
 *   synchronous=NORMAL). What still differs is the two rows an account's path
 *   inserts, its token and its email: about a tenth of a millisecond, which
 *   enough samples could pick out of a quiet network;
 * - so the route answers no sooner than LINK_ANSWER_FLOOR_MS after it began
 *   (waitForAnswerFloor): both paths' work ends well before the floor, and
 *   both answers leave when it is reached;
 * - the email itself goes out later, from the outbox worker, not in the
 *   request: no call to Resend is timed by the answer.
 */

/**
 * The least time an answer to a link request takes, in milliseconds: two
 * orders of magnitude above the work on either path, and short enough that
 * nobody waiting for a form notices it.
 */
export const LINK_ANSWER_FLOOR_MS = 25;

export type LinkRequestOutcome =
  | { ok: true }
  | { ok: false; reason: "rate-limited"; retryAfterSeconds: number };

export interface LinkRequest {
  email: string;
  purpose: TokenPurpose;
  /** The address and client limits the request counts against. */
  limits: readonly (readonly [RateLimitPolicy, string])[];
  /** Issues the token and queues the email; it runs inside the transaction. */
  send: (reader: Reader) => void;
}

export interface LinkRequestResult {
  outcome: LinkRequestOutcome;
  /** The reader the link went to; undefined for an unknown address or a refusal. */
  reader?: Reader;
}

/** Counts the request and sends the link if the address has an account. */
export function requestLinkByAddress(
  db: Db,
  request: LinkRequest,
  nowSeconds: number,
): LinkRequestResult {
  const work = db.transaction((): LinkRequestResult => {
    const limit = takeRateLimitHits(db, request.limits, nowSeconds);
    if (limit.limited)
      return { outcome: { ok: false, reason: "rate-limited", ...limit } };

    const reader = findReaderByEmail(db, request.email);
    if (reader) request.send(reader);
    else issueDecoyToken(db, request.purpose, nowSeconds);
    return { outcome: { ok: true }, reader };
  });
  return work.immediate();
}

/** Waits until `floorMs` have passed since `startedAt` (a performance.now() reading). */
export async function waitForAnswerFloor(
  startedAt: number,
  floorMs: number = LINK_ANSWER_FLOOR_MS,
): Promise<void> {
  const left = startedAt + floorMs - performance.now();
  if (left > 0) await new Promise((done) => setTimeout(done, left));
}
