import { deleteCookie, getCookie, getQuery, type H3Event, setCookie } from "h3";
import { isKnownTier, tierName } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { escapeHtml } from "../http/html.ts";
import { logWarn } from "../log.ts";

/**
 * "View as tier", for writers checking a post in development: `?as=<tier>`
 * serves the site's pages as if the reader held that tier, and a cookie keeps
 * the choice while they click around; `?as=` goes back to their own tier.
 * Gated pages then carry a small switch to change it. The API and every other
 * route keep the reader's real tier.
 *
 * It exists only when the server runs with TIERWALL_DEV=1, which `npm run dev`
 * sets. Without it the query and the cookie are never read, nothing is added
 * to any page, and every reader gets exactly what their subscription allows.
 * Even with it, only a browser on the writer's own machine (a loopback peer)
 * may use it: a dev server reachable from a café's network must not hand the
 * whole paid archive to anyone who adds `?as=`.
 */

declare module "h3" {
  interface H3EventContext {
    /** Set in development only: the reader's own tier and the tier viewed as. */
    devView?: { ownTier: string; viewingAs?: string };
  }
}

const VIEW_AS_COOKIE = "tierwall_view_as";
const SWITCH_START = "<!-- tierwall dev: view as -->";
const SWITCH_END = "<!-- /tierwall dev -->";

let warned = false;

/** Development is only ever switched on explicitly, never guessed from NODE_ENV. */
export function isDevMode(): boolean {
  return process.env.TIERWALL_DEV === "1";
}

/** Records the tier the writer chose to view the site as, if any. */
export function applyViewAs(event: H3Event): void {
  warnOnce();
  if (!isLoopback(event.node.req.socket.remoteAddress)) return;
  event.context.devView = { ownTier: event.context.tier, viewingAs: chosenTier(event) };
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
  return bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The tier the site is served for: the reader's own, or in development the one chosen. */
export function servingTier(event: H3Event): string {
  return event.context.devView?.viewingAs ?? event.context.tier;
}

/** `?as=` wins and is remembered (or forgotten, when empty); otherwise the cookie. */
function chosenTier(event: H3Event): string | undefined {
  const asked = getQuery(event).as;
  if (typeof asked !== "string") {
    const remembered = getCookie(event, VIEW_AS_COOKIE);
    return remembered && isKnownTier(tierwall.tiers, remembered) ? remembered : undefined;
  }

  if (!isKnownTier(tierwall.tiers, asked)) {
    deleteCookie(event, VIEW_AS_COOKIE, { path: "/" });
    return undefined;
  }
  setCookie(event, VIEW_AS_COOKIE, asked, { path: "/", httpOnly: true, sameSite: "lax" });
  return asked;
}

function warnOnce(): void {
  if (warned) return;
  warned = true;
  logWarn(
    "site",
    "TIERWALL_DEV=1: browsers on this machine can read any post with ?as=<tier>; never set it on a public server",
  );
}

/** The page with the switch added before `</body>` (or at the end). */
export function withTierSwitch(html: string, event: H3Event): string {
  const view = event.context.devView;
  if (!view) return html;

  const snippet = tierSwitchHtml(view.ownTier, view.viewingAs);
  const bodyEnd = html.toLowerCase().lastIndexOf("</body>");
  if (bodyEnd === -1) return `${html}${snippet}`;
  return `${html.slice(0, bodyEnd)}${snippet}\n${html.slice(bodyEnd)}`;
}

function tierSwitchHtml(ownTier: string, viewingAs: string | undefined): string {
  const ownName = escapeHtml(tierName(tierwall.tiers, ownTier));
  const options = tierwall.tiers.map((tier) => {
    const selected = tier.id === viewingAs ? " selected" : "";
    return `<option value="${escapeHtml(tier.id)}"${selected}>${escapeHtml(tier.name)}</option>`;
  });

  return `${SWITCH_START}
<form method="get" data-tierwall-dev="view-as" style="position:fixed;right:1rem;bottom:1rem;z-index:2147483647;margin:0;padding:.5rem .75rem;border-radius:.5rem;background:#1d1d1f;color:#fff;font:13px/1.4 system-ui,sans-serif;box-shadow:0 2px 10px rgba(0,0,0,.3)">
<label>View as <select name="as" onchange="this.form.submit()" style="font:inherit">
<option value="">yourself (${ownName})</option>
${options.join("\n")}
</select></label>
<noscript><button style="font:inherit">View</button></noscript>
<small style="display:block;opacity:.7">development only</small>
</form>
${SWITCH_END}`;
}
