import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Edge cookies: short-lived proofs, one per tier, that let a web server in front
 * of Tierwall (nginx, with its `secure_link` module) serve a tier's full pages
 * without asking Node. Each holds `<base64url MD5>,<expires>`, the form nginx's
 * `secure_link` reads, where the MD5 covers the expiry, the tier and a secret
 * shared by the server and nginx. Changing the expiry or the tier breaks it, so
 * a cookie can neither be extended nor moved to another tier; without the
 * secret none can be made.
 *
 * The signed string is built in one place, `edgeSignedString`, for both sides:
 * the server fills in a real expiry and tier, and the nginx renderer fills in
 * nginx variables, so the two can never drift apart.
 */

export const EDGE_COOKIE_PREFIX = "tierwall_edge_";

/** Five minutes: how long a lowered tier may keep reading at the edge by default. */
export const DEFAULT_EDGE_TTL_SECONDS = 300;

/**
 * Characters safe both in the signed string and inside a quoted nginx string:
 * base64 and base64url, as `openssl rand -base64 32` prints. No colon (it
 * separates the signed fields) and no `$` (nginx would read a variable).
 */
export const EDGE_SECRET_PATTERN = /^[A-Za-z0-9+/=_.~-]{32,}$/;

/** A bad secret stops whoever reads it: nginx would refuse every cookie made with it. */
export function checkEdgeSecret(secret: string): void {
  if (!EDGE_SECRET_PATTERN.test(secret)) {
    throw new Error(
      "EDGE_COOKIE_SECRET must be at least 32 characters of base64 " +
        "(A-Z a-z 0-9 + / = _ . ~ -), e.g. from `openssl rand -base64 32`",
    );
  }
}

/** The cookie for `tier`; with `__Host-` on an https site, like the session's. */
export function edgeCookieName(tier: string, secure: boolean): string {
  return `${secure ? "__Host-" : ""}${EDGE_COOKIE_PREFIX}${tier}`;
}

/**
 * What the MD5 covers. Neither a tier id nor the secret may hold a colon, so
 * the string splits one way only and two tiers can never sign the same text.
 */
export function edgeSignedString(expires: string, tier: string, secret: string): string {
  return `tierwall-edge:${expires}:${tier}:${secret}`;
}

/** The cookie value for `tier` that is good until `expires` (Unix seconds). */
export function signEdgeValue(secret: string, tier: string, expires: number): string {
  return `${edgeHash(secret, tier, String(expires))},${expires}`;
}

function edgeHash(secret: string, tier: string, expires: string): string {
  const signed = edgeSignedString(expires, tier, secret);
  return createHash("md5").update(signed).digest("base64url");
}

export type EdgeVerdict = { valid: true; expires: number } | { valid: false };

/** Checks a cookie value the way nginx does: right signature, not yet expired. */
export function verifyEdgeValue(
  secret: string,
  tier: string,
  value: string,
  nowSeconds: number,
): EdgeVerdict {
  const match = /^([A-Za-z0-9_-]{22}),([0-9]{1,12})$/.exec(value);
  if (!match) return { valid: false };
  const [, hash = "", expiresText = ""] = match;

  // The expiry is hashed as written, leading zeros and all, as nginx does.
  const expected = edgeHash(secret, tier, expiresText);
  const same = timingSafeEqual(Buffer.from(hash), Buffer.from(expected));
  const expires = Number(expiresText);
  return same && expires >= nowSeconds ? { valid: true, expires } : { valid: false };
}

export interface EdgeCookieAttributes {
  secure: boolean;
  /** Seconds; 0 clears the cookie. */
  maxAge: number;
}

/**
 * A `Set-Cookie` value. Written by hand rather than through a cookie library,
 * which would percent-encode the comma nginx needs to see as it is.
 */
export function serializeEdgeCookie(
  name: string,
  value: string,
  { secure, maxAge }: EdgeCookieAttributes,
): string {
  const parts = [`${name}=${value}`, `Max-Age=${maxAge}`, "Path=/", "HttpOnly"];
  if (secure) parts.push("Secure");
  parts.push("SameSite=Lax");
  return parts.join("; ");
}
