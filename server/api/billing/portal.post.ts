import { defineEventHandler, sendRedirect } from "h3";
import { answerBillingFailure } from "../../billing/failures.ts";
import { openBillingPortal, type PortalOutcome } from "../../billing/portal.ts";
import { answerSignedOut, readBillingReader } from "../../billing/reader.ts";
import { failRequest, wantsJson } from "../../http/respond.ts";

// A 303 to the Stripe Billing Portal, where the reader manages their plan.
export default defineEventHandler(async (event) => {
  const reader = readBillingReader(event);
  if (!reader) return answerSignedOut(event, "/login/?next=/account/");

  let outcome: PortalOutcome;
  try {
    outcome = await openBillingPortal(reader.id);
  } catch (error) {
    return answerBillingFailure(event, error, "billing portal", "/account/");
  }

  if (outcome.kind === "no-customer") {
    return failRequest(event, 400, "You have no billing account yet.", "/#pricing");
  }
  if (wantsJson(event)) return { url: outcome.url };
  return sendRedirect(event, outcome.url, 303);
});
