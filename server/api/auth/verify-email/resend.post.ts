import { defineEventHandler } from "h3";
import { unixNow } from "../../../auth/accounts.ts";
import { resendVerificationLink } from "../../../auth/verification.ts";
import { useDb } from "../../../db/database.ts";
import { clientRateLimitKey } from "../../../http/client-ip.ts";
import {
  failSignedOut,
  failTooManyAttempts,
  readFields,
  safeNextPath,
  succeedWithNotice,
} from "../../../http/respond.ts";

// "Send the link again", from the reminder every page shows an unconfirmed reader.
export default defineEventHandler(async (event) => {
  const fields = await readFields(event);
  const back = safeNextPath(fields.next, "/account/");
  const reader = event.context.user;
  if (!reader) return failSignedOut(event, "Sign in to confirm your address.", back);

  const outcome = resendVerificationLink(
    useDb(),
    reader,
    clientRateLimitKey(event),
    unixNow(),
  );
  if (!outcome.ok) return failTooManyAttempts(event, outcome.retryAfterSeconds, back);

  const message = outcome.sent
    ? `A new confirmation link is on its way to ${reader.email}. Earlier links no longer work.`
    : "Your email address is already confirmed.";
  return succeedWithNotice(event, back, message);
});
