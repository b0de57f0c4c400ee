// The signed-in reader, shared by every component on the page through
// `$store.session`. One request to the server's `/api/me` per page view, and
// more only while a page waits for a change (see `refresh`). Also
// `$store.flash`: the message a form post left for this page.
//
// `user` follows the server's shape: null, or { email, tier, tierName,
// subscription: null | { status, tier, interval, cancelAtPeriodEnd,
// currentPeriodEnd, cancelAt }, notice }.

/** @type {string[]} statuses in which the reader still has a subscription to manage */
const LIVE_STATUSES = [
  "active",
  "trialing",
  "past_due",
  "unpaid",
  "incomplete",
  "paused",
];

/**
 * The message a form post left for this page ("Wrong email or password.") comes
 * in a cookie the server set on its redirect (server/http/flash.ts), never in
 * the address: anyone can write a link with `?error=` in it, and the site must
 * not show a stranger's words in its own boxes. The cookie names the page it
 * is for; that page shows it once and clears it, so a reload shows it no more.
 * On an https site its name carries the `__Host-` prefix, as the session's does.
 */
const FLASH_COOKIES = ["__Host-tierwall_flash", "tierwall_flash"];
const NO_FLASH = Object.freeze({ error: "", notice: "" });

/** @returns {{ name: string, value: string } | null} */
function findFlashCookie() {
  for (const pair of document.cookie.split(";")) {
    const [name = "", ...value] = pair.trim().split("=");
    if (FLASH_COOKIES.includes(name)) return { name, value: value.join("=") };
  }
  return null;
}

/** @returns {{ page: string, kind: string, message: string } | null} */
function parseFlash(value) {
  try {
    const flash = JSON.parse(decodeURIComponent(value));
    const known = flash?.kind === "error" || flash?.kind === "notice";
    return known && typeof flash.message === "string" && typeof flash.page === "string"
      ? flash
      : null;
  } catch {
    return null;
  }
}

/** @param {string} name @param {string} value @param {number} maxAge */
function writeFlashCookie(name, value, maxAge) {
  const secure = name.startsWith("__Host-") ? "; Secure" : "";
  // biome-ignore lint/suspicious/noDocumentCookie: not every browser readers use has the Cookie Store API.
  document.cookie = `${name}=${value}; Path=/; Max-Age=${maxAge}; SameSite=Lax${secure}`;
}

/** This page's message, taken out of the cookie so that it shows once. */
function takeFlash() {
  const cookie = findFlashCookie();
  const flash = cookie && parseFlash(cookie.value);
  if (!cookie || !flash || flash.page !== window.location.pathname) return NO_FLASH;

  writeFlashCookie(cookie.name, "", 0);
  return flash.kind === "error"
    ? { error: flash.message, notice: "" }
    : { error: "", notice: flash.message };
}

/**
 * Leaves a message for the page at `location`, as the server does for a form:
 * for scripts that post JSON and then move the reader on.
 * @param {string} location @param {"error" | "notice"} kind @param {string} message
 */
function leaveFlash(location, kind, message) {
  const page = new URL(location, window.location.origin).pathname;
  const secure = window.location.protocol === "https:";
  const name = secure ? FLASH_COOKIES[0] : FLASH_COOKIES[1];
  const value = encodeURIComponent(JSON.stringify({ page, kind, message }));
  writeFlashCookie(name ?? "", value, 60);
}

function readTiers() {
  const element = document.getElementById("tierwall-tiers");
  try {
    return element ? JSON.parse(element.textContent || "[]") : [];
  } catch {
    return [];
  }
}

/** @returns {Promise<null | Record<string, any>>} */
async function fetchReader() {
  const response = await fetch("/api/me", {
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`GET /api/me answered ${response.status}`);
  const body = await response.json();
  return body.user ?? null;
}

document.addEventListener("alpine:init", () => {
  const tiers = readTiers();

  // `error` or `notice`, whichever the last form post left for this page, and
  // `leave` for a script that moves the reader on with a message.
  window.Alpine.store("flash", { ...takeFlash(), leave: leaveFlash });

  window.Alpine.store("session", {
    loaded: false,
    failed: false,
    /** @type {null | Record<string, any>} */
    user: null,
    tiers,

    async init() {
      try {
        this.user = await fetchReader();
      } catch {
        // Treat the reader as signed out; the server still checks every request.
        this.failed = true;
        this.user = null;
      } finally {
        this.loaded = true;
      }
    },

    /**
     * Asks the server again, for a page waiting on a change made elsewhere (a
     * payment Stripe has yet to confirm). A failed request keeps what it had.
     * @returns {Promise<boolean>} whether the answer arrived
     */
    async refresh() {
      try {
        this.user = await fetchReader();
        this.failed = false;
        return true;
      } catch {
        return false;
      }
    },

    /** @param {string} tierId */
    rank(tierId) {
      return tiers.findIndex((/** @type {{ id: string }} */ tier) => tier.id === tierId);
    },

    /** Whether the reader pays for a subscription they can change in billing. */
    get hasLiveSubscription() {
      const status = this.user?.subscription?.status;
      return Boolean(status && LIVE_STATUSES.includes(status));
    },
  });
});
