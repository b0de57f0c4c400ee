import { getCookie, getResponseHeader, type H3Event, setResponseHeader } from "h3";
import type { Cookie, Session, User } from "lucia";
import type { ReaderHoldings } from "../billing/entitlements.ts";
import { type Db, useDb } from "../db/database.ts";
import { noteEdgeSignIn } from "../edge/sync.ts";
import {
  blankCookieNamed,
  isSecureSite,
  PLAIN_SESSION_COOKIE_NAME,
  SESSION_COOKIE_NAME,
  SESSION_RENEW_WITHIN_MS,
  sessionCookieFor,
  useLucia,
} from "./lucia.ts";
import { SessionCache } from "./session-cache.ts";
import type { Reader, ReaderSession } from "./types.ts";

/**
 * Sessions over HTTP: reading the session cookie, starting a session at sign-in
 * and ending it at sign-out. Lucia stays behind these functions.
 */

export interface RequestAuth {
  reader: Reader | null;
  session: ReaderSession | null;
  /** What the reader holds, read with the session: the inputs of their tier. */
  holdings: ReaderHoldings | null;
}

const signedOut: RequestAuth = { reader: null, session: null, holdings: null };

/**
 * Validates the request's session cookie. A session past half its life comes
 * back extended, with a fresh cookie; an unknown or expired one clears the
 * cookie. A request without the cookie gets no Set-Cookie at all, so public
 * pages stay cacheable. A session seen before, with the database unchanged
 * since, is answered from the session cache (session-cache.ts).
 */
export async function authenticateRequest(event: H3Event): Promise<RequestAuth> {
  clearPlainCookieOnSecureSite(event);
  const sessionId = getCookie(event, SESSION_COOKIE_NAME);
  if (!sessionId) return signedOut;

  const cache = useSessionCache();
  const mark = cache.begin();
  const cached = cache.get(sessionId, Date.now());
  if (cached) return cached;

  const lucia = useLucia();
  const { session, user } = await lucia.validateSession(sessionId);
  if (!session) {
    setSessionCookie(event, lucia.createBlankSessionCookie());
    return signedOut;
  }
  if (session.fresh) setSessionCookie(event, sessionCookieFor(session));
  const auth = signedIn(user, session);
  cache.set(sessionId, auth, mark);
  return auth;
}

let sessionCache: SessionCache<SignedIn> | undefined;

function useSessionCache(): SessionCache<SignedIn> {
  sessionCache ??= new SessionCache(useDb(), SESSION_RENEW_WITHIN_MS);
  return sessionCache;
}

type SignedIn = { [Key in keyof RequestAuth]: NonNullable<RequestAuth[Key]> };

/** Frozen: a cached answer is shared by every request of the session. */
function signedIn(user: User, session: Session): SignedIn {
  const { subscriptions, complimentary } = user.holdings;
  return Object.freeze({
    reader: Object.freeze(toReader(user)),
    session: Object.freeze(toReaderSession(session)),
    holdings: Object.freeze({
      subscriptions: Object.freeze(subscriptions.map((row) => Object.freeze(row))),
      complimentary: complimentary && Object.freeze(complimentary),
    }),
  });
}

/**
 * Signs the reader in with a new session id, replacing the request's session if
 * it had one, so an id planted before sign-in is worthless after it.
 */
export async function startSession(
  event: H3Event,
  readerId: string,
): Promise<ReaderSession> {
  const lucia = useLucia();
  const previous = getCookie(event, SESSION_COOKIE_NAME);
  if (previous) await lucia.invalidateSession(previous);

  const session = await lucia.createSession(readerId, {});
  setSessionCookie(event, sessionCookieFor(session));
  noteEdgeSignIn(event, readerId);
  return toReaderSession(session);
}

/** Signs out: deletes the session, if any, and clears the cookie either way. */
export async function endSession(event: H3Event): Promise<void> {
  const lucia = useLucia();
  const sessionId = getCookie(event, SESSION_COOKIE_NAME);
  if (sessionId) await lucia.invalidateSession(sessionId);
  setSessionCookie(event, lucia.createBlankSessionCookie());
}

/**
 * Ends every session of the reader, the request's own included. Synchronous,
 * so that it runs in the transaction that changes the password or uses the
 * link: no moment exists in which the new password is set and an old session
 * still works.
 */
export function deleteReaderSessions(db: Db, readerId: string): void {
  db.prepare("DELETE FROM session WHERE user_id = ?").run(readerId);
}

/** How many sessions the reader has open, on any device. */
export function countReaderSessions(
  db: Db,
  readerId: string,
  nowSeconds: number,
): number {
  const row = db
    .prepare("SELECT count(*) AS n FROM session WHERE user_id = ? AND expires_at > ?")
    .get(readerId, nowSeconds) as { n: number };
  return row.n;
}

/** Clears the session cookie without touching the database, e.g. once the account is gone. */
export function clearSessionCookie(event: H3Event): void {
  setSessionCookie(event, useLucia().createBlankSessionCookie());
}

/** Deletes sessions past their expiry that no request has presented since. */
export async function deleteExpiredSessions(): Promise<void> {
  await useLucia().deleteExpiredSessions();
}

/**
 * A browser that signed in before the site moved to https still sends the
 * plain-named cookie: it is cleared, and never read, since anything that can
 * write cookies for a sibling subdomain could have planted it.
 */
function clearPlainCookieOnSecureSite(event: H3Event): void {
  if (!isSecureSite() || getCookie(event, PLAIN_SESSION_COOKIE_NAME) === undefined)
    return;
  setSessionCookie(event, blankCookieNamed(PLAIN_SESSION_COOKIE_NAME));
}

/** Sets a cookie, replacing one of the same name set earlier in the same response. */
function setSessionCookie(event: H3Event, cookie: Cookie): void {
  const current = getResponseHeader(event, "set-cookie");
  const others = (
    Array.isArray(current) ? current : current ? [String(current)] : []
  ).filter((value) => !value.startsWith(`${cookie.name}=`));
  setResponseHeader(event, "set-cookie", [...others, cookie.serialize()]);
}

function toReader(user: User): Reader {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    stripeCustomerId: user.stripeCustomerId,
  };
}

function toReaderSession(session: Session): ReaderSession {
  return { id: session.id, expiresAt: session.expiresAt };
}
