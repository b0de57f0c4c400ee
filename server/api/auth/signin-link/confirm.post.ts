import { defineEventHandler } from "h3";
import { unixNow } from "../../../auth/accounts.ts";
import { describeLinkFailure } from "../../../auth/email-links.ts";
import { startSession } from "../../../auth/sessions.ts";
import { redeemSignInLink } from "../../../auth/sign-in-links.ts";
import { useDb } from "../../../db/database.ts";
import {
  failRequest,
  readFields,
  safeNextPath,
  succeedRequest,
} from "../../../http/respond.ts";

// The button on the page a sign-in link opens: uses the link and signs the
// reader in with a new session id.
export default defineEventHandler(async (event) => {
  const fields = await readFields(event);

  const outcome = redeemSignInLink(useDb(), fields.token ?? "", unixNow());
  if (!outcome.ok) {
    const refusal = describeLinkFailure(
      outcome.reason,
      "Ask for a new sign-in link below.",
    );
    return failRequest(event, refusal.status, refusal.message, "/login/");
  }

  await startSession(event, outcome.readerId);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"));
});
