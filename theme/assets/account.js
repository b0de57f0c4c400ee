// The account page: who is signed in, their plan and where their subscription
// stands. Billing changes happen in Stripe's portal (a form post to the server).

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

/** @param {string | null | undefined} iso */
function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

document.addEventListener("alpine:init", () => {
  window.Alpine.data("account", () => ({
    checkoutSuccess:
      new URLSearchParams(window.location.search).get("checkout") === "success",

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
      return this.endsSoon ? `${label}, canceled` : label;
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
  }));
});
