// The box under a teaser. Its `mode` picks the call to action:
//   anonymous → subscribe or sign in (also the no-JavaScript default)
//   upgrade   → signed in below the post's tier, no subscription to change
//   manage    → signed in with a lower paid plan: upgrade in the billing portal
//   entitled  → the reader's tier already covers the post (e.g. they subscribed
//               in another tab), so offer to load the full page

document.addEventListener("alpine:init", () => {
  window.Alpine.data(
    "paywall",
    (/** @type {{ tier: string, path: string }} */ options) => ({
      tier: options.tier,
      path: options.path,

      get mode() {
        const session = this.$store.session;
        const user = session.user;
        if (!user) return "anonymous";
        if (session.rank(user.tier) >= session.rank(this.tier)) return "entitled";
        return session.hasLiveSubscription ? "manage" : "upgrade";
      },

      get currentTierName() {
        return this.$store.session.user?.tierName ?? "";
      },
    }),
  );
});
