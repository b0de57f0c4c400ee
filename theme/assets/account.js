// The account page: who is signed in, their plan and where their subscription
// stands. Billing changes happen in Stripe's portal (a form post to the server).
// The private feed's address comes from `/api/feed`; resetting it replaces it.

const STATUS_LABELS = {
  active: "Active",
  trialing: "Trial",
  past_due: "Payment overdue",
  unpaid: "Unpaid",
  incomplete: "Waiting for payment",
  incomplete_expired: "Checkout expired",
  canceled: "Canceled",
  paused: "Paused",
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
// Complimentary access runs through the end of a day in UTC, and reads as that
// day, written as the operator's command wrote it: "31 January 2027".
const grantDateFormat = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "long",
  timeZone: "UTC",
});

/** @param {string | null | undefined} iso */
function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

/**
 * The reader's feed address from the server: GET reads it (creating it the first
 * time), POST to `/api/feed/reset` replaces it.
 * @param {"GET" | "POST"} method
 * @returns {Promise<string>}
 */
async function requestFeedUrl(method) {
  const response = await fetch(method === "GET" ? "/api/feed" : "/api/feed/reset", {
    method,
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`${method} feed answered ${response.status}`);
  const body = await response.json();
  if (typeof body.url !== "string") throw new Error("The feed answer has no url");
  return body.url;
}

const RESET_QUESTION =
  "Reset your feed address? The current one stops working at once, " +
  "in every feed reader you have added it to.";

document.addEventListener("alpine:init", () => {
  window.Alpine.data("account", () => ({
    checkoutSuccess:
      new URLSearchParams(window.location.search).get("checkout") === "success",

    feed: { url: "", copied: false, resetting: false, wasReset: false, error: "" },

    init() {
      this.$watch("user", (user) => {
        if (user) this.loadFeed();
      });
      if (this.user) this.loadFeed();
    },

    get loaded() {
      return this.$store.session.loaded;
    },
    get failed() {
      return this.$store.session.failed;
    },
    get user() {
      return this.$store.session.user;
    },

    get statusLabel() {
      const subscription = this.user?.subscription;
      if (!subscription) return "No subscription";
      const label = STATUS_LABELS[subscription.status] ?? subscription.status;
      return this.endsSoon ? `${label}, cancellation scheduled` : label;
    },

    get endsSoon() {
      const subscription = this.user?.subscription;
      return Boolean(
        subscription && (subscription.cancelAtPeriodEnd || subscription.cancelAt),
      );
    },

    /** "Renews on" for a running plan, "Ends on" for one that was canceled. */
    get periodLabel() {
      const subscription = this.user?.subscription;
      if (!subscription || subscription.status === "canceled") return "";
      if (this.endsSoon) return "Ends on";
      return subscription.currentPeriodEnd ? "Renews on" : "";
    },

    get periodDate() {
      const subscription = this.user?.subscription;
      if (!subscription) return "";
      return formatDate(
        this.endsSoon
          ? (subscription.cancelAt ?? subscription.currentPeriodEnd)
          : subscription.currentPeriodEnd,
      );
    },

    /**
     * Access an operator gave without a subscription, told apart from a paid
     * plan: "Complimentary Core Stacker until 31 January 2027".
     */
    get complimentaryLabel() {
      const grant = this.user?.complimentary;
      if (!grant) return "";
      const label = `Complimentary ${grant.tierName}`;
      return grant.until
        ? `${label} until ${grantDateFormat.format(new Date(grant.until))}`
        : label;
    },

    /** Readers on the free tier get teasers in their feed until they subscribe. */
    get feedShowsTeasers() {
      return this.$store.session.rank(this.user?.tier ?? "") <= 0;
    },

    async loadFeed() {
      if (this.feed.url) return;
      try {
        this.feed.url = await requestFeedUrl("GET");
      } catch {
        this.feed.error = "We couldn't load your feed address. Please reload the page.";
      }
    },

    async copyFeedUrl() {
      try {
        await navigator.clipboard.writeText(this.feed.url);
        this.feed.copied = true;
        setTimeout(() => {
          this.feed.copied = false;
        }, 2000);
      } catch {
        // No clipboard access (an insecure origin, say): select it for the reader.
        this.$refs.feedUrl.select();
      }
    },

    async resetFeed() {
      if (this.feed.resetting || !window.confirm(RESET_QUESTION)) return;
      this.feed.resetting = true;
      this.feed.error = "";
      try {
        this.feed.url = await requestFeedUrl("POST");
        this.feed.wasReset = true;
      } catch {
        this.feed.error = "Your feed address could not be reset. Please try again.";
      } finally {
        this.feed.resetting = false;
      }
    },
  }));
});
