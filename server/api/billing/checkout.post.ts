import { createError, defineEventHandler, sendRedirect } from "h3";
import {
  type CheckoutStart,
  signUpPageFor,
  startCheckout,
} from "../../billing/checkout.ts";
import { answerBillingFailure } from "../../billing/failures.ts";
import { answerSignedOut, readBillingReader } from "../../billing/reader.ts";
import { failRequest, readFields, wantsJson } from "../../http/respond.ts";

const pricingPage = "/#pricing";

// `price` → a 303 to Stripe Checkout, or to the Billing Portal for a reader who
// already subscribes. A signed-out reader signs up first, the plan kept.
export default defineEventHandler(async (event) => {
  const price = (await readFields(event)).price?.trim();
  const reader = readBillingReader(event);
  if (!reader) {
    const signUpPage = await signUpPageFor(price);
    return answerSignedOut(event, signUpPage, "Sign in to subscribe.");
  }

  if (!price) {
    return failRequest(event, 400, "Choose a plan to subscribe to.", pricingPage);
  }

  let outcome: CheckoutStart;
  try {
    outcome = await startCheckout(reader, price);
  } catch (error) {
    return answerBillingFailure(event, error, "checkout", pricingPage);
  }

  switch (outcome.kind) {
    case "pricing-unavailable":
      return failRequest(event, 503, "Pricing is unavailable right now.", pricingPage);
    case "unknown-price":
      return failRequest(event, 400, "That price is not one of our plans.", pricingPage);
    case "covered": {
      const until = outcome.until
        ? ` until ${new Date(outcome.until * 1000).toISOString().slice(0, 10)}`
        : "";
      const message = `You already have ${outcome.tierName} as a gift${until}; choose a higher plan, or subscribe once it ends.`;
      return failRequest(event, 409, message, pricingPage);
    }
    case "already-subscribed":
      if (wantsJson(event)) {
        throw createError({
          statusCode: 409,
          message: "You already subscribe; manage your plan in billing.",
          data: { url: outcome.portalUrl },
        });
      }
      return sendRedirect(event, outcome.portalUrl, 303);
    case "redirect":
      if (wantsJson(event)) return { url: outcome.url };
      return sendRedirect(event, outcome.url, 303);
  }
});
