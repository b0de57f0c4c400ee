import { defineEventHandler } from "h3";
import { copyEmailToStripe } from "../../../auth/account-settings.ts";
import { unixNow } from "../../../auth/accounts.ts";
import { describeLinkFailure } from "../../../auth/email-links.ts";
import { confirmEmailLink } from "../../../auth/verification.ts";
import { useDb } from "../../../db/database.ts";
import { failRequest, readFields, succeedWithNotice } from "../../../http/respond.ts";

// The button on the page a confirmation link opens. It confirms the address of
// a new account, or moves an account to the new address it was sent to. It
// signs no one in: the reader may open the link on another device.
export default defineEventHandler(async (event) => {
  const fields = await readFields(event);

  const db = useDb();
  const outcome = confirmEmailLink(db, fields.token ?? "", unixNow());
  if (!outcome.ok) {
    if (outcome.reason === "email-taken") {
      const message =
        "That address now belongs to another account, so your address was not changed.";
      return failRequest(event, 409, message, "/verify-email/");
    }
    const askAgain = "Sign in and ask for a new one from your account page.";
    const refusal = describeLinkFailure(outcome.reason, askAgain);
    return failRequest(event, refusal.status, refusal.message, "/verify-email/");
  }

  if (outcome.kind === "changed") {
    await copyEmailToStripe(db, outcome.readerId, outcome.email);
    return succeedWithNotice(
      event,
      "/account/",
      `Your account now uses ${outcome.email}.`,
    );
  }
  return succeedWithNotice(
    event,
    "/account/",
    "Thank you: your email address is confirmed.",
  );
});
