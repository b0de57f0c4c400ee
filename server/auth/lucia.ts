import { BetterSqlite3Adapter } from "@lucia-auth/adapter-sqlite";
import { Lucia, TimeSpan } from "lucia";
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

export const SESSION_COOKIE_NAME = "tierwall_session";

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
      attributes: { secure: isSecureSite(), sameSite: "lax", path: "/" },
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
