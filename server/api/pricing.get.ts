import { createError, defineEventHandler } from "h3";
import { loadPricing } from "../billing/pricing.ts";

// The paid tiers and their prices, lowest tier first, for the pricing table.
export default defineEventHandler(async () => {
  const pricing = await loadPricing();
  if (pricing.kind === "unavailable") {
    throw createError({ statusCode: 503, message: "Pricing is unavailable right now." });
  }
  return { tiers: pricing.tiers };
});
