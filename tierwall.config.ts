import { defineTierwallConfig } from "./lib/config.ts";

const port = process.env.PORT ?? "3000";

export default defineTierwallConfig({
  site: {
    name: "The Stacker",
    description:
      "Field notes on building and running software that lasts: databases, networks, " +
      "and the craft of keeping systems boring.",
    url: process.env.SITE_URL ?? `http://localhost:${port}`,
    language: "en",
    author: "Mara Lindqvist",
  },
  // Lowest first. The first tier is free; a Stripe Product maps to a paid tier
  // through its `metadata.tier`. `prices` are what `npm run stripe:setup` creates
  // in Stripe, in the currency's minor unit (500 is $5.00).
  tiers: [
    {
      id: "free",
      name: "Free",
      description: "Weekly essays and the archive's free posts.",
    },
    {
      id: "spark",
      name: "Spark Stacker",
      description: "Every deep dive, plus the monthly reading list.",
      prices: { currency: "usd", monthly: 500, yearly: 5000 },
    },
    {
      id: "core",
      name: "Core Stacker",
      description: "Everything in Spark, plus the runbooks and postmortem teardowns.",
      prices: { currency: "usd", monthly: 1200, yearly: 12000 },
    },
    {
      id: "lightning",
      name: "Lightning Stacker",
      description:
        "Everything in Core, plus the quarterly field reports and source files.",
      prices: { currency: "usd", monthly: 2500, yearly: 25000 },
    },
  ],
  billing: {
    pastDueGraceDays: 7,
    trialDays: 0,
    allowPromotionCodes: false,
  },
  email: {
    from: process.env.EMAIL_FROM ?? "The Stacker <letters@stacker.localhost>",
  },
});
