import { type H3Event, parseCookies } from "h3";
import { tierRank } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { SESSION_COOKIE_NAME } from "../auth/lucia.ts";
import { readEntitlement } from "../billing/entitlements.ts";
import { readOwnChanges, useDb } from "../db/database.ts";
import { beforeHeadersGoOut } from "../http/headers-out.ts";
import { logError } from "../log.ts";
import type { EdgeConfig } from "./config.ts";
import { useEdgeConfig } from "./config.ts";
import {
  EDGE_COOKIE_PREFIX,
  edgeCookieName,
  serializeEdgeCookie,
  signEdgeValue,
  verifyEdgeValue,
} from "./cookies.ts";

/**
 * Keeps a reader's edge cookies in step with their tier on every answer Node
 * gives. The work happens when the answer's headers go out, after the route has
 * run, so that it sees what the route did: a sign-in (`noteEdgeSignIn`), a
 * change to what the reader holds (the return from Checkout storing a new
 * subscription), or a sign-out, account deletion or dead session (the answer
 * clears the session cookie). Then:
 *
 * - a signed-in reader carries one cookie per paid tier up to their own, and a
 *   missing, invalid or half-spent one is replaced;
 * - a cookie for a tier above the reader's (a tier that dropped) is cleared;
 * - a signed-out browser has all of its edge cookies cleared.
 *
 * A cookie already in a browser stays good until it expires, whatever happens
 * on the server: that lifetime is the delay before a lowered tier stops reading
 * pages that nginx serves.
 */

declare module "h3" {
  interface H3EventContext {
    /** The reader a sign-in in this request started a session for. */
    edgeSignIn?: string;
    /** This process's write count when the route began (`total_changes()`). */
    edgeWritesBefore?: number;
  }
}

/** Called by startSession: the answer must carry fresh cookies for this reader. */
export function noteEdgeSignIn(event: H3Event, readerId: string): void {
  if (useEdgeConfig()) event.context.edgeSignIn = readerId;
}

/** Arranges for the answer's edge cookies to be set right before its headers are sent. */
export function syncEdgeCookiesOnResponse(event: H3Event, config: EdgeConfig): void {
  if (event.context.user) event.context.edgeWritesBefore = readOwnChanges(useDb());
  beforeHeadersGoOut(event.node.res, () => {
    try {
      applyEdgeCookies(event, config);
    } catch (error) {
      // A page without fresh edge cookies is still a page: nginx sends the
      // reader back here once the old ones expire.
      logError("http", "edge cookies could not be set", error);
    }
  });
}

function applyEdgeCookies(event: H3Event, config: EdgeConfig): void {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const present = presentEdgeCookies(event);
  const carried = endsSession(event) ? [] : tiersToCarry(event, config);
  const renew = event.context.edgeSignIn !== undefined;

  const cookies: string[] = [];
  const keep = new Set<string>();
  for (const tier of carried) {
    const name = edgeCookieName(tier, config.secure);
    keep.add(name);
    const value = present.get(name);
    if (renew || !lastsLongEnough(config, tier, value, nowSeconds)) {
      cookies.push(issueCookie(config, tier, name, nowSeconds));
    }
  }
  for (const name of present.keys()) {
    if (!keep.has(name)) cookies.push(clearCookie(config, name));
  }
  if (cookies.length > 0) appendSetCookies(event, cookies);
}

/** The paid tiers, lowest first, up to and including the reader's. */
function tiersToCarry(event: H3Event, config: EdgeConfig): string[] {
  const signedIn = event.context.edgeSignIn;
  const readerId = signedIn ?? event.context.user?.id;
  if (!readerId) return [];

  const tier = tierIsStale(event)
    ? readEntitlement(useDb(), readerId).tier
    : event.context.tier;
  const rank = tierRank(tierwall.tiers, tier);
  return config.paidTiers.filter((paid) => {
    const paidRank = tierRank(tierwall.tiers, paid);
    return paidRank > 0 && paidRank <= rank;
  });
}

/**
 * Whether the tier the session middleware read may be out of date: a sign-in
 * happened after it, or this process wrote to the database while the route
 * ran (it may have stored a subscription for this reader, as the return from
 * Checkout does). Counting this connection's own writes costs no I/O; a write
 * by another request meanwhile only costs a needless read.
 */
function tierIsStale(event: H3Event): boolean {
  if (event.context.edgeSignIn !== undefined) return true;
  const before = event.context.edgeWritesBefore;
  return before !== undefined && readOwnChanges(useDb()) !== before;
}

/** A cookie is left alone while more than half of its life remains. */
function lastsLongEnough(
  config: EdgeConfig,
  tier: string,
  value: string | undefined,
  nowSeconds: number,
): boolean {
  if (value === undefined) return false;
  const verdict = verifyEdgeValue(config.secret, tier, value, nowSeconds);
  return verdict.valid && verdict.expires - nowSeconds > config.ttlSeconds / 2;
}

function issueCookie(
  config: EdgeConfig,
  tier: string,
  name: string,
  nowSeconds: number,
): string {
  const value = signEdgeValue(config.secret, tier, nowSeconds + config.ttlSeconds);
  return serializeEdgeCookie(name, value, {
    secure: config.secure,
    maxAge: config.ttlSeconds,
  });
}

/** A `__Host-` cookie can only be cleared with Secure; a plain one either way. */
function clearCookie(config: EdgeConfig, name: string): string {
  const secure = config.secure && name.startsWith("__Host-");
  return serializeEdgeCookie(name, "", { secure, maxAge: 0 });
}

/**
 * Every edge cookie the browser sent, by name, whatever its tier: on an https
 * site a plain-named one is never honoured by nginx and gets cleared too.
 */
function presentEdgeCookies(event: H3Event): Map<string, string> {
  const present = new Map<string, string>();
  if (!event.node.req.headers.cookie?.includes(EDGE_COOKIE_PREFIX)) return present;
  for (const [name, value] of Object.entries(parseCookies(event))) {
    const bare = name.startsWith("__Host-") ? name.slice("__Host-".length) : name;
    if (bare.startsWith(EDGE_COOKIE_PREFIX)) present.set(name, value);
  }
  return present;
}

/** Whether the answer clears the session cookie: sign-out, deletion, a dead session. */
function endsSession(event: H3Event): boolean {
  return setCookieHeaders(event).some(
    (header) => header.split(";")[0] === `${SESSION_COOKIE_NAME}=`,
  );
}

function setCookieHeaders(event: H3Event): string[] {
  const current = event.node.res.getHeader("set-cookie");
  if (Array.isArray(current)) return current;
  return current === undefined ? [] : [String(current)];
}

/**
 * Adds the cookies to the answer. An answer that sets a reader's cookie must
 * never sit in a shared cache, whatever the route chose before.
 */
function appendSetCookies(event: H3Event, cookies: string[]): void {
  const res = event.node.res;
  res.setHeader("set-cookie", [...setCookieHeaders(event), ...cookies]);
  res.setHeader("cache-control", "private, no-store");
}
