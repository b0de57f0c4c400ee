import tierwall from "../../tierwall.config.ts";
import { logWarn } from "../log.ts";

/**
 * Cross-site request protection. The session cookie is SameSite=Lax, and on top
 * of that every state-changing request must say where it comes from: browsers
 * send `Origin` on every POST, and `Referer` stands in for it on the few that
 * omit it. A request from anywhere but this site is refused.
 */

export type OriginVerdict = { allowed: true } | { allowed: false; reason: string };

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/** Requests that carry their own proof instead of an Origin. */
const exemptRequests = new Set(["POST /api/stripe/webhook"]);

export function checkRequestOrigin(
  request: { method: string; path: string; origin?: string; referer?: string },
  allowedOrigins: ReadonlySet<string>,
): OriginVerdict {
  const method = request.method.toUpperCase();
  if (safeMethods.has(method)) return { allowed: true };

  const pathname = request.path.split("?")[0] ?? "";
  if (exemptRequests.has(`${method} ${pathname}`)) return { allowed: true };

  const claimed = request.origin ?? originOf(request.referer);
  if (!claimed) {
    return {
      allowed: false,
      reason: "This request has no Origin header, so it could come from another site.",
    };
  }
  if (!allowedOrigins.has(claimed)) {
    return { allowed: false, reason: "This request comes from another site." };
  }
  return { allowed: true };
}

let cached: ReadonlySet<string> | undefined;

/** The site's own origin plus the comma-separated ALLOWED_ORIGINS. */
export function allowedOrigins(): ReadonlySet<string> {
  cached ??= collectAllowedOrigins(tierwall.site.url, process.env.ALLOWED_ORIGINS ?? "");
  return cached;
}

export function collectAllowedOrigins(
  siteUrl: string,
  extra: string,
): ReadonlySet<string> {
  const origins = new Set([new URL(siteUrl).origin]);
  for (const entry of extra.split(",")) {
    const value = entry.trim();
    if (value === "") continue;
    const origin = originOf(value);
    if (origin) origins.add(origin);
    else logWarn("http", `ALLOWED_ORIGINS entry "${value}" is not a URL; ignored`);
  }
  return origins;
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}
