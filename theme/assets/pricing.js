// The pricing table on the front page. Plans and prices come from the server's
// `GET /api/pricing` (paid tiers only, lowest first, amounts already formatted).
// What each card's button does depends on the reader:
//   signed out            → a link to sign up, coming back to the plans
//   signed in, no plan    → a form that starts Stripe Checkout for that price
//   already subscribed    → "Your plan", or "Change plan" through the billing portal

document.addEventListener("alpine:init", () => {
  window.Alpine.data("pricingTable", () => ({
    state: "loading",
    interval: "month",
    /** @type {Array<{ id: string, name: string, description: string, prices: any[] }>} */
    tiers: [],
    /** Why the last checkout did not start: the server sends it back in `?error=`. */
    checkoutError: new URLSearchParams(window.location.search).get("error") ?? "",

    init() {
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

    /** "2 months free" style hint, when every yearly price beats twelve monthly ones. */
    get yearlySaving() {
      const savings = this.tiers.map((tier) => {
        const month = tier.prices.find((p) => p.interval === "month");
        const year = tier.prices.find((p) => p.interval === "year");
        return month && year ? 1 - year.amount / (month.amount * 12) : 0;
      });
      const least = Math.min(...savings);
      return least >= 0.05 ? `save ${Math.floor(least * 100)}%` : "";
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
      if (!session.user) return "signup";
      if (!session.hasLiveSubscription) return "checkout";
      return this.isCurrent(tier) ? "current" : "change";
    },
  }));
});
