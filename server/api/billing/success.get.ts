import { defineEventHandler, getQuery, getRequestURL, setResponseStatus } from "h3";
import { type CheckoutReturn, completeCheckout } from "../../billing/checkout.ts";
import { answerBillingFailure } from "../../billing/failures.ts";
import { answerSignedOut, readBillingReader } from "../../billing/reader.ts";
import { failRequest, succeedRequest, wantsJson } from "../../http/respond.ts";

const accountPage = "/account/";

// Said when Stripe cannot be asked: the reader may have paid a moment ago, and
// must not be led to pay twice. The account page says the same for forms.
const CONFIRMING =
  "We are confirming your payment with Stripe. Please do not pay again: your plan shows on your account page once it is confirmed.";

// Stripe Checkout sends the reader here after paying: store the new
// subscription now, then show the account page. If Stripe cannot be asked,
// the account page says the payment is being confirmed and waits for the
// webhook to store it.
export default defineEventHandler(async (event) => {
  const reader = readBillingReader(event);
  if (!reader) {
    const { pathname, search } = getRequestURL(event);
    const next = encodeURIComponent(`${pathname}${search}`);
    return answerSignedOut(
      event,
      `/login/?next=${next}`,
      "Sign in to finish subscribing.",
    );
  }

  const sessionId = getQuery(event).session_id;
  if (typeof sessionId !== "string" || !/^cs_[A-Za-z0-9_]+$/.test(sessionId)) {
    return failRequest(event, 400, "This checkout link is incomplete.", accountPage);
  }

  let outcome: CheckoutReturn;
  try {
    outcome = await completeCheckout(reader, sessionId);
  } catch (error) {
    return answerBillingFailure(event, error, "checkout return", accountPage);
  }

  switch (outcome.kind) {
    case "not-found":
      return failRequest(event, 404, "We could not find that checkout.", accountPage);
    case "not-yours":
      return failRequest(
        event,
        403,
        "This checkout belongs to another reader.",
        accountPage,
      );
    case "incomplete":
      return succeedRequest(event, "/account/?checkout=incomplete", {
        checkout: "incomplete",
      });
    case "unconfirmed":
      if (wantsJson(event)) setResponseStatus(event, 202);
      return succeedRequest(event, "/account/?checkout=confirming", {
        checkout: "confirming",
        message: CONFIRMING,
      });
    case "synced":
      return succeedRequest(event, "/account/?checkout=success", { checkout: "success" });
  }
});
