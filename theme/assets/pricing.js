// The pricing table on the front page. Plans and prices come from the server's
// `GET /api/pricing` (paid tiers only, lowest first, amounts already formatted).
// What each card's button does depends on the reader:
//   signed out, or no plan → a form that starts Stripe Checkout for that price;
//                            the server sends a signed-out reader to sign up
//                            first, with the price kept in `next` as `?plan=`
//   already subscribed     → "Your plan", or "Change plan" through the billing portal
//
// Back from signing up or in, at `/?plan=<price id>#pricing`, the table
// continues to Checkout for that price by itself, but only when this tab
// chose it (the choice is kept in sessionStorage at the click): a link from
// anywhere else can show a plan, never start a Checkout. The server checks
// the price again there, as it does for every Checkout.

const CHOSEN_PLAN_KEY = "tierwall:chosen-plan";

/** Remembers, in this tab only, the price a signed-out reader clicked. */
function rememberChoice(priceId) {
  try {
    window.sessionStorage.setItem(CHOSEN_PLAN_KEY, priceId);
  } catch {
    // Storage refused (private mode): the plan is shown, not started.
  }
}

/** Whether this tab chose `priceId` before signing in; forgets it either way. */
function takeChoice(priceId) {
  try {
    const chosen = window.sessionStorage.getItem(CHOSEN_PLAN_KEY);
    window.sessionStorage.removeItem(CHOSEN_PLAN_KEY);
    return chosen === priceId;
  } catch {
    return false;
  }
}

/** Below this, a yearly price is not worth a hint. */
const LEAST_SAVING_WORTH_SHOWING = 0.05;

/**
 * How much the yearly price saves over twelve monthly ones for every tier
 * that has both, as the least of those savings in whole percent (rounded to
 * the nearest, so $120 against 12 × $12 says 17, not 16). Null when no tier
 * has both prices or some tier saves too little to mention.
 * @param {Array<{ prices: Array<{ interval: string, amount: number }> }>} tiers
 * @returns {number | null}
 */
function yearlySavingPercent(tiers) {
  const savings = tiers.flatMap((tier) => {
    const month = tier.prices.find((p) => p.interval === "month");
    const year = tier.prices.find((p) => p.interval === "year");
    return month && year ? [1 - year.amount / (month.amount * 12)] : [];
  });
  const least = Math.min(...savings);
  if (savings.length === 0 || least < LEAST_SAVING_WORTH_SHOWING) return null;
  return Math.round(least * 100);
}

/** Takes `plan` out of the address, so that going back does not start over. */
function dropPlanFromAddress() {
  const url = new URL(window.location.href);
  url.searchParams.delete("plan");
  window.history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
}

document.addEventListener("alpine:init", () => {
  window.Alpine.data("pricingTable", () => ({
    state: "loading",
    interval: "month",
    /** @type {Array<{ id: string, name: string, description: string, prices: any[] }>} */
    tiers: [],
    /** Why the last checkout did not start, as the server left it in `$store.flash`. */
    checkoutError: "",
    /** The price a reader chose before signing in: `?plan=` in the address. */
    chosenPlan: new URLSearchParams(window.location.search).get("plan") ?? "",
    /** The tier whose Checkout is starting by itself, shown while it loads. */
    continuingTo: "",

    init() {
      this.checkoutError = this.$store.flash.error;
      // Back from Checkout, the browser may show this page as it was left.
      window.addEventListener("pageshow", () => {
        this.continuingTo = "";
      });
      this.load();
    },

    async load() {
      this.state = "loading";
      try {
        const response = await fetch("/api/pricing", {
          headers: { accept: "application/json" },
        });
        if (!response.ok) throw new Error(`GET /api/pricing answered ${response.status}`);
        const body = await response.json();
        this.tiers = Array.isArray(body.tiers) ? body.tiers : [];
        this.state = this.tiers.length > 0 ? "ready" : "error";
        if (!this.intervals.includes(this.interval))
          this.interval = this.intervals[0] ?? "month";
      } catch {
        this.state = "error";
      }
    },

    /** Billing periods offered by at least one tier, monthly first. */
    get intervals() {
      const offered = new Set(
        this.tiers.flatMap((tier) => tier.prices.map((p) => p.interval)),
      );
      return ["month", "year"].filter((interval) => offered.has(interval));
    },

    /** @param {{ prices: any[] }} tier */
    priceFor(tier) {
      return tier.prices.find((price) => price.interval === this.interval) ?? null;
    },

    /** "save 17%", when every tier's yearly price beats twelve monthly ones. */
    get yearlySaving() {
      const percent = yearlySavingPercent(this.tiers);
      return percent === null ? "" : `save ${percent}%`;
    },

    /** A signed-out reader's click on Subscribe: kept for the way back. */
    remember(tier) {
      if (!this.$store.session.user) rememberChoice(this.priceFor(tier)?.id ?? "");
    },

    /** @param {{ id: string }} tier */
    isCurrent(tier) {
      const session = this.$store.session;
      return session.hasLiveSubscription && session.user?.subscription?.tier === tier.id;
    },

    /** @param {{ id: string, prices: any[] }} tier */
    action(tier) {
      const session = this.$store.session;
      if (!this.priceFor(tier)) return "none";
      if (!session.user || !session.hasLiveSubscription) return "checkout";
      return this.isCurrent(tier) ? "current" : "change";
    },

    /**
     * Run by `x-effect` whenever the plans or the reader change: once both are
     * known, a plan chosen before signing in goes on to Checkout, once.
     */
    continueChosenPlan() {
      const { loaded, user } = this.$store.session;
      if (!this.chosenPlan || this.state !== "ready" || !loaded) return;
      const { tier, price } = this.findPrice(this.chosenPlan);
      this.chosenPlan = "";
      dropPlanFromAddress();
      if (!tier || !price) return;

      this.interval = price.interval;
      if (!takeChoice(price.id)) return;
      if (!user || this.action(tier) !== "checkout") return;
      this.continuingTo = tier.name;
      this.$nextTick(() => this.checkoutFormOf(tier)?.requestSubmit());
    },

    /** A price the table lists, with its tier; nothing for any other id. */
    findPrice(priceId) {
      for (const tier of this.tiers) {
        const price = tier.prices.find((p) => p.id === priceId);
        if (price) return { tier, price };
      }
      return { tier: null, price: null };
    },

    /** @param {{ id: string }} tier @returns {HTMLFormElement | null} */
    checkoutFormOf(tier) {
      return this.$root.querySelector(
        `[data-tier="${CSS.escape(tier.id)}"] form[action="/api/billing/checkout"]`,
      );
    },
  }));
});
