// The account page: who is signed in, their plan and where their subscription
// stands. Billing changes happen in Stripe's portal (a form post to the server).
// The private feed's address comes from `/api/feed`; resetting it replaces it.
// The settings forms (address, password, deleting the account) post JSON to
// `/api/account/…` and show the server's answer beside the form; posted as
// plain forms, they come back here with the answer in `$store.flash`.
//
// Back from Stripe Checkout the address says `?checkout=success`, `confirming`
// (Stripe could not be asked yet) or `incomplete`. Those are only keys: what
// the page says follows the reader's plan as `/api/me` reports it, so a link
// that carries one claims nothing. While a payment is not confirmed yet, the
// page asks again for a while, since the webhook may store it any moment.

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

/** Statuses of a plan that is still running, in good standing or not. */
const RUNNING_STATUSES = new Set(["active", "trialing", "past_due"]);

/** How long the page waits for Stripe to confirm a payment, and how often it asks. */
const CONFIRM_FOR_MS = 2 * 60 * 1000;
const CONFIRM_EVERY_MS = 3000;

/** The keys the return from Checkout may put in `?checkout=`. */
const CHECKOUT_RETURNS = new Set(["success", "confirming", "incomplete"]);

function readCheckoutReturn() {
  const value = new URLSearchParams(window.location.search).get("checkout") ?? "";
  return CHECKOUT_RETURNS.has(value) ? value : "";
}

/** A plan Stripe has confirmed as paid, or in its free trial. */
function isPaidUp(user) {
  const status = user?.subscription?.status;
  return status === "active" || status === "trialing";
}

/** @param {number} ms */
function pause(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

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

/**
 * @param {HTMLFormElement} form
 * @returns {Promise<{ ok: boolean, body: Record<string, any> }>}
 */
async function postForm(form) {
  const response = await fetch(form.action, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(Object.fromEntries(new FormData(form))),
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, body };
}

function settingState() {
  return { busy: false, message: "", error: "" };
}

const DELETE_QUESTION =
  "Delete your account? Any subscription is canceled at once, and this cannot be undone.";

const RESET_QUESTION =
  "Reset your feed address? The current one stops working at once, " +
  "in every feed reader you have added it to.";

document.addEventListener("alpine:init", () => {
  window.Alpine.data("account", () => ({
    checkoutReturn: readCheckoutReturn(),
    /** What the page says about a Checkout: active, confirming, unconfirmed, incomplete. */
    checkout: "",

    notice: "",
    pageError: "",

    feed: { url: "", copied: false, resetting: false, wasReset: false, error: "" },

    settings: { email: settingState(), password: settingState(), delete: settingState() },

    init() {
      this.notice = this.$store.flash.notice;
      this.pageError = this.$store.flash.error;
      this.$watch("user", (user) => {
        if (user) this.loadFeed();
      });
      if (this.user) this.loadFeed();
      this.$watch("loaded", (loaded) => {
        if (loaded) this.followCheckout();
      });
      if (this.loaded) this.followCheckout();
    },

    /** Back from Checkout: what to say, from the plan the server reports. */
    followCheckout() {
      const returned = this.checkoutReturn;
      this.checkoutReturn = "";
      if (!returned || !this.user) return;
      if (returned === "incomplete") {
        this.checkout = isPaidUp(this.user) ? "" : "incomplete";
      } else if (isPaidUp(this.user)) {
        this.checkout = "active";
      } else {
        this.checkout = "confirming";
        this.waitForConfirmation();
      }
    },

    /**
     * Asks the server every few seconds, for a while, whether the payment is
     * confirmed, so the reader never has to wonder whether to pay again.
     */
    async waitForConfirmation() {
      const deadline = Date.now() + CONFIRM_FOR_MS;
      while (Date.now() < deadline) {
        await pause(CONFIRM_EVERY_MS);
        await this.$store.session.refresh();
        if (isPaidUp(this.user)) {
          this.checkout = "active";
          return;
        }
      }
      this.checkout = "unconfirmed";
    },

    /** A payment may be on its way: the page must not offer to take another. */
    get awaitingPayment() {
      return this.checkout === "confirming" || this.checkout === "unconfirmed";
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

    /** A running plan whose cancellation is scheduled but has not happened yet. */
    get endsSoon() {
      const subscription = this.user?.subscription;
      if (!subscription || !RUNNING_STATUSES.has(subscription.status)) return false;
      return Boolean(subscription.cancelAtPeriodEnd || subscription.cancelAt);
    },

    /**
     * "Ends on" for a plan set to cancel, "Renews on" for one in good standing,
     * nothing for one that ended or waits on a payment (it renews only once paid).
     */
    get periodLabel() {
      const subscription = this.user?.subscription;
      if (!subscription || !RUNNING_STATUSES.has(subscription.status)) return "";
      if (this.endsSoon) return "Ends on";
      const renews = subscription.status !== "past_due" && subscription.currentPeriodEnd;
      return renews ? "Renews on" : "";
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

    /**
     * Posts one of the settings forms and shows the answer beside it.
     * @param {HTMLFormElement} form
     * @param {"email" | "password" | "delete"} name
     */
    async submitSetting(form, name) {
      const state = this.settings[name];
      if (state.busy) return null;
      state.busy = true;
      state.message = "";
      state.error = "";
      try {
        const answer = await postForm(form);
        if (!answer.ok) {
          state.error = answer.body.message ?? "That did not work. Please try again.";
          return null;
        }
        state.message = answer.body.message ?? "Done.";
        form.reset();
        return answer.body;
      } catch {
        state.error = "We couldn't reach the server. Please try again.";
        return null;
      } finally {
        state.busy = false;
      }
    },

    /** @param {HTMLFormElement} form */
    async deleteAccount(form) {
      if (!window.confirm(DELETE_QUESTION)) return;
      const body = await this.submitSetting(form, "delete");
      if (!body) return;
      // Signed out now: the page shows the notice above the sign-in links.
      this.notice = body.message ?? "Your account is deleted.";
      this.$store.session.user = null;
      window.scrollTo(0, 0);
    },
  }));
});
