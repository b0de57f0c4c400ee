import { BetterSqlite3Adapter } from "@lucia-auth/adapter-sqlite";
import { Cookie, Lucia, type Session, TimeSpan } from "lucia";
import tierwall from "../../tierwall.config.ts";
import { useDb } from "../db/database.ts";
import type { Reader } from "./types.ts";

/**
 * The one place that configures Lucia. Sessions live in the `session` table and
 * last 30 days; Lucia extends a session (and marks it fresh, so the cookie is
 * sent again) once it is past half its life, so an active reader stays signed in.
 */

type ReaderAttributes = Omit<Reader, "id">;
type TierwallLucia = Lucia<Record<never, never>, ReaderAttributes>;

declare module "lucia" {
  interface Register {
    Lucia: TierwallLucia;
    DatabaseUserAttributes: {
      email: string;
      email_verified: number;
      stripe_customer_id: string | null;
    };
  }
}

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

let instance: TierwallLucia | undefined;

export function useLucia(): TierwallLucia {
  instance ??= createLucia();
  return instance;
}

function createLucia(): TierwallLucia {
  const adapter = new BetterSqlite3Adapter(useDb(), { user: "user", session: "session" });
  return new Lucia(adapter, {
    sessionExpiresIn: new TimeSpan(30, "d"),
    sessionCookie: {
      name: SESSION_COOKIE_NAME,
      attributes: cookieAttributes,
    },
    getUserAttributes: (row) => ({
      email: row.email,
      emailVerified: row.email_verified === 1,
      stripeCustomerId: row.stripe_customer_id,
    }),
  });
}

/**
 * The cookie is marked Secure from the configured site URL, not from the request:
 * behind a TLS-terminating proxy every request arrives as plain http.
 */
export function isSecureSite(): boolean {
  return new URL(tierwall.site.url).protocol === "https:";
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
