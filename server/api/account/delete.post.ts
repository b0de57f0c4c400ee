import { defineEventHandler } from "h3";
import { type BillingRefusal, deleteAccount } from "../../auth/account-deletion.ts";
import { unixNow } from "../../auth/accounts.ts";
import { parseCurrentPasswordField } from "../../auth/credentials.ts";
import { clearSessionCookie } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import {
  failRequest,
  failSignedOut,
  failTooManyAttempts,
  markPrivate,
  readCheckedForm,
  succeedWithNotice,
} from "../../http/respond.ts";

const BILLING_UNAVAILABLE =
  "We could not reach our payment provider to cancel your subscription, so your account was not deleted. Please try again in a few minutes.";
const BILLING_FAILED =
  "Your subscription could not be canceled, so your account was not deleted. Please try again, or contact us.";

// Deletes the reader's account, after canceling their subscriptions in Stripe.
export default defineEventHandler(async (event) => {
  markPrivate(event);
  const form = await readCheckedForm(event, "/account/", (fields) =>
    parseCurrentPasswordField(fields.currentPassword),
  );
  if (!form.ok) return form.answer;
  const reader = event.context.user;
  if (!reader) return failSignedOut(event, "Sign in to delete your account.");

  const outcome = await deleteAccount(useDb(), reader, form.result.value, unixNow());
  if (!outcome.ok) {
    switch (outcome.reason) {
      case "rate-limited":
        return failTooManyAttempts(event, outcome.retryAfterSeconds, "/account/");
      case "billing-unavailable":
      case "billing-failed":
        return failRequest(
          event,
          outcome.reason === "billing-unavailable" ? 503 : 502,
          describeBillingRefusal(outcome),
          "/account/",
        );
      default:
        return failRequest(
          event,
          403,
          "Your current password is not right.",
          "/account/",
        );
    }
  }

  clearSessionCookie(event);
  return succeedWithNotice(
    event,
    "/account/",
    "Your account is deleted. Thank you for reading.",
  );
});

/**
 * What a reader whose account was not deleted needs to know: that it was not,
 * what to do, and, when some subscriptions were canceled before one could not
 * be, that those are over while the account is still there.
 */
function describeBillingRefusal(refusal: BillingRefusal): string {
  if (refusal.canceled === 0) {
    return refusal.reason === "billing-unavailable"
      ? BILLING_UNAVAILABLE
      : BILLING_FAILED;
  }
  const left = refusal.live - refusal.canceled;
  const rest = left === 1 ? "the other" : `the other ${left}`;
  const done = `${refusal.canceled} of your ${refusal.live} subscriptions`;
  const over = refusal.canceled === 1 ? "The canceled one" : "Those canceled";
  return `We canceled ${done}, but ${rest} could not be canceled, so your account was not deleted. ${over} will not be charged again. Please try again in a few minutes to finish, or contact us.`;
}
