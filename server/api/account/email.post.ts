import { defineEventHandler, setResponseStatus } from "h3";
import { requestEmailChange } from "../../auth/account-settings.ts";
import { unixNow } from "../../auth/accounts.ts";
import { parseCurrentPasswordField, parseEmailField } from "../../auth/credentials.ts";
import { useDb } from "../../db/database.ts";
import { clientRateLimitKey } from "../../http/client-ip.ts";
import {
  failRequest,
  failSignedOut,
  failTooManyAttempts,
  markPrivate,
  readCheckedForm,
  succeedWithNotice,
  wantsJson,
} from "../../http/respond.ts";

// A new address from the account page. The account moves only once the link
// sent to the new address is used; the old address is told when it does.
export default defineEventHandler(async (event) => {
  markPrivate(event);
  const form = await readCheckedForm(event, "/account/", (fields) => {
    const email = parseEmailField(fields.email);
    if (!email.ok) return email;
    const password = parseCurrentPasswordField(fields.currentPassword);
    return password.ok
      ? { ok: true as const, newEmail: email.value, password: password.value }
      : password;
  });
  if (!form.ok) return form.answer;
  const reader = event.context.user;
  if (!reader) return failSignedOut(event, "Sign in to change your address.");

  const outcome = await requestEmailChange(
    useDb(),
    reader,
    form.result,
    clientRateLimitKey(event),
    unixNow(),
  );
  if (!outcome.ok && outcome.reason === "rate-limited") {
    return failTooManyAttempts(event, outcome.retryAfterSeconds, "/account/");
  }
  if (!outcome.ok && outcome.reason === "same-email") {
    return failRequest(event, 400, "That is already your address.", "/account/");
  }
  if (!outcome.ok)
    return failRequest(event, 403, "Your current password is not right.", "/account/");

  if (wantsJson(event)) setResponseStatus(event, 202);
  const message = `To finish, open the link we sent to ${form.result.newEmail}. Until then your account keeps its current address.`;
  return succeedWithNotice(event, "/account/", message);
});
