// The signed-in reader, shared by every component on the page through
// `$store.session`. One request to the server's `/api/me` per page view.
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

function readTiers() {
  const element = document.getElementById("tierwall-tiers");
  try {
    return element ? JSON.parse(element.textContent || "[]") : [];
  } catch {
    return [];
  }
}

document.addEventListener("alpine:init", () => {
  const tiers = readTiers();

  window.Alpine.store("session", {
    loaded: false,
    failed: false,
    /** @type {null | Record<string, any>} */
    user: null,
    tiers,

    async init() {
      try {
        const response = await fetch("/api/me", {
          headers: { accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`GET /api/me answered ${response.status}`);
        const body = await response.json();
        this.user = body.user ?? null;
      } catch {
        // Treat the reader as signed out; the server still checks every request.
        this.failed = true;
        this.user = null;
      } finally {
        this.loaded = true;
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
