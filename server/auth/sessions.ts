import { getCookie, getResponseHeader, type H3Event, setResponseHeader } from "h3";
import type { Cookie, Session, User } from "lucia";
import { SESSION_COOKIE_NAME, useLucia } from "./lucia.ts";
import type { Reader, ReaderSession } from "./types.ts";

/**
 * Sessions over HTTP: reading the session cookie, starting a session at sign-in
 * and ending it at sign-out. Lucia stays behind these functions.
 */

export interface RequestAuth {
  reader: Reader | null;
  session: ReaderSession | null;
}

const signedOut: RequestAuth = { reader: null, session: null };

/**
 * Validates the request's session cookie. A session past half its life comes
 * back extended, with a fresh cookie; an unknown or expired one clears the
 * cookie. A request without the cookie gets no Set-Cookie at all, so public
 * pages stay cacheable.
 */
export async function authenticateRequest(event: H3Event): Promise<RequestAuth> {
  const sessionId = getCookie(event, SESSION_COOKIE_NAME);
  if (!sessionId) return signedOut;

  const lucia = useLucia();
  const { session, user } = await lucia.validateSession(sessionId);
  if (!session) {
    setSessionCookie(event, lucia.createBlankSessionCookie());
    return signedOut;
  }
  if (session.fresh) setSessionCookie(event, lucia.createSessionCookie(session.id));
  return { reader: toReader(user), session: toReaderSession(session) };
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
  setSessionCookie(event, lucia.createSessionCookie(session.id));
  return toReaderSession(session);
}

/** Signs out: deletes the session, if any, and clears the cookie either way. */
export async function endSession(event: H3Event): Promise<void> {
  const lucia = useLucia();
  const sessionId = getCookie(event, SESSION_COOKIE_NAME);
  if (sessionId) await lucia.invalidateSession(sessionId);
  setSessionCookie(event, lucia.createBlankSessionCookie());
}

/** Signs the reader out everywhere, e.g. after a password change. */
export async function endAllSessions(readerId: string): Promise<void> {
  await useLucia().invalidateUserSessions(readerId);
}

/** Deletes sessions past their expiry that no request has presented since. */
export async function deleteExpiredSessions(): Promise<void> {
  await useLucia().deleteExpiredSessions();
}

/** Sets the session cookie, replacing one set earlier in the same response. */
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
