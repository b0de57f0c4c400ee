import { BetterSqlite3Adapter } from "@lucia-auth/adapter-sqlite";
import {
  Cookie,
  type DatabaseSession,
  type DatabaseUser,
  Lucia,
  type Session,
  TimeSpan,
} from "lucia";
import tierwall from "../../tierwall.config.ts";
import type { ReaderHoldings } from "../billing/entitlements.ts";
import { type Db, prepared, useDb } from "../db/database.ts";
import { hashSessionId } from "./session-ids.ts";
import type { Reader } from "./types.ts";

/**
 * The one place that configures Lucia. Sessions live in the `session` table and
 * last 30 days; Lucia extends a session (and marks it fresh, so the cookie is
 * sent again) once it is past half its life, so an active reader stays signed in.
 */

/** The reader, and what they hold, which decides their tier (see the adapter below). */
type ReaderAttributes = Omit<Reader, "id"> & { holdings: ReaderHoldings };
type TierwallLucia = Lucia<Record<never, never>, ReaderAttributes>;

declare module "lucia" {
  interface Register {
    Lucia: TierwallLucia;
    DatabaseUserAttributes: {
      email: string;
      email_verified: number;
      stripe_customer_id: string | null;
      holdings: ReaderHoldings;
    };
  }
}

/** Filled by isSecureSite() on first call, which the cookie settings below make. */
let secureSite: boolean | undefined;

/** The cookie's name on a plain-http site (local development, the tests). */
export const PLAIN_SESSION_COOKIE_NAME = "tierwall_session";

/**
 * On an https site the cookie carries the `__Host-` prefix: browsers accept it
 * only when it is Secure, has Path=/ and no Domain, so a page on another
 * subdomain cannot plant a session cookie for this site.
 */
export const SESSION_COOKIE_NAME = isSecureSite()
  ? `__Host-${PLAIN_SESSION_COOKIE_NAME}`
  : PLAIN_SESSION_COOKIE_NAME;

const cookieAttributes = {
  secure: isSecureSite(),
  sameSite: "lax",
  path: "/",
} as const;

const SESSION_LIFETIME = new TimeSpan(30, "d");

/** Lucia extends a session once less than half its lifetime is left. */
export const SESSION_RENEW_WITHIN_MS = SESSION_LIFETIME.milliseconds() / 2;

let instance: TierwallLucia | undefined;

export function useLucia(): TierwallLucia {
  instance ??= createLucia();
  return instance;
}

/**
 * Lucia's SQLite adapter, with two changes.
 *
 * The table keeps each session under the hash of its id (session-ids.ts),
 * never the id itself. Lucia hands every method the id from the cookie; each
 * hashes it before it reaches SQL, and a session read back carries the id
 * Lucia asked for. `getUserSessions` returns the stored hashes, which no
 * cookie carries: Tierwall never lists a reader's sessions by id.
 *
 * The read every signed-in request makes is one query, compiled once per
 * connection, for the session, the reader and what the reader holds
 * (subscriptions, complimentary grant), where the stock adapter runs two, so
 * that a gated page learns the reader's tier without another round. The
 * holdings are read fresh on every request, never kept. A session whose
 * reader is gone comes back without one, and Lucia deletes it.
 */
export class ReaderSessionAdapter extends BetterSqlite3Adapter {
  readonly #db: Db;

  constructor(db: Db) {
    super(db, { user: "user", session: "session" });
    this.#db = db;
  }

  override async getSessionAndUser(
    sessionId: string,
  ): Promise<[DatabaseSession | null, DatabaseUser | null]> {
    const rows = prepared(this.#db, selectSessionReaderHoldings).all(
      hashSessionId(sessionId),
    ) as SessionReaderRow[];
    const first = rows[0];
    if (!first) return [null, null];

    const session = {
      id: sessionId,
      userId: first.user_id,
      expiresAt: new Date(first.expires_at * 1000),
      attributes: {},
    };
    if (first.reader_id === null) return [session, null];
    return [session, { id: first.reader_id, attributes: toReaderRow(first, rows) }];
  }

  override setSession(session: DatabaseSession): Promise<void> {
    return super.setSession({ ...session, id: hashSessionId(session.id) });
  }

  override updateSessionExpiration(sessionId: string, expiresAt: Date): Promise<void> {
    return super.updateSessionExpiration(hashSessionId(sessionId), expiresAt);
  }

  override deleteSession(sessionId: string): Promise<void> {
    return super.deleteSession(hashSessionId(sessionId));
  }
}

/** One row per subscription of the reader (one row, its columns null, for none). */
const selectSessionReaderHoldings = `SELECT s.user_id, s.expires_at,
    u.id AS reader_id, u.email, u.email_verified, u.stripe_customer_id,
    sub.tier AS sub_tier, sub.status AS sub_status, sub.cancel_at AS sub_cancel_at,
    sub.past_due_since AS sub_past_due_since,
    ca.tier AS grant_tier, ca.until AS grant_until
  FROM session s
  LEFT JOIN user u ON u.id = s.user_id
  LEFT JOIN subscription sub ON sub.user_id = u.id
  LEFT JOIN complimentary_access ca ON ca.user_id = u.id
  WHERE s.id = ?`;

interface SessionReaderRow {
  user_id: string;
  expires_at: number;
  reader_id: string | null;
  email: string;
  email_verified: number;
  stripe_customer_id: string | null;
  sub_tier: string | null;
  sub_status: string;
  sub_cancel_at: number | null;
  sub_past_due_since: number | null;
  grant_tier: string | null;
  grant_until: number | null;
}

function toReaderRow(
  first: SessionReaderRow,
  rows: readonly SessionReaderRow[],
): DatabaseUser["attributes"] {
  const subscriptions = rows
    .filter((row) => row.sub_tier !== null)
    .map((row) => ({
      tier: row.sub_tier as string,
      status: row.sub_status,
      cancelAt: row.sub_cancel_at,
      pastDueSince: row.sub_past_due_since,
    }));
  const complimentary =
    first.grant_tier === null
      ? null
      : { tier: first.grant_tier, until: first.grant_until };
  return {
    email: first.email,
    email_verified: first.email_verified,
    stripe_customer_id: first.stripe_customer_id,
    holdings: { subscriptions, complimentary },
  };
}

function createLucia(): TierwallLucia {
  return new Lucia(new ReaderSessionAdapter(useDb()), {
    sessionExpiresIn: SESSION_LIFETIME,
    sessionCookie: {
      name: SESSION_COOKIE_NAME,
      attributes: cookieAttributes,
    },
    getUserAttributes: (row) => ({
      email: row.email,
      emailVerified: row.email_verified === 1,
      stripeCustomerId: row.stripe_customer_id,
      holdings: row.holdings,
    }),
  });
}

/**
 * The cookie is marked Secure from the configured site URL, not from the request:
 * behind a TLS-terminating proxy every request arrives as plain http. The URL
 * is fixed for the life of the process, so it is parsed once.
 */
export function isSecureSite(): boolean {
  secureSite ??= new URL(tierwall.site.url).protocol === "https:";
  return secureSite;
}

/**
 * The session's cookie, living exactly as long as the stored session: its
 * Max-Age is counted from the session's own expiry, not from a fixed span.
 */
export function sessionCookieFor(session: Session, nowMs: number = Date.now()): Cookie {
  const maxAge = Math.max(0, Math.round((session.expiresAt.getTime() - nowMs) / 1000));
  return new Cookie(SESSION_COOKIE_NAME, session.id, {
    ...cookieAttributes,
    httpOnly: true,
    maxAge,
  });
}

/** Clears a cookie of this name, e.g. the plain-named one on an https site. */
export function blankCookieNamed(name: string): Cookie {
  return new Cookie(name, "", { ...cookieAttributes, httpOnly: true, maxAge: 0 });
}
