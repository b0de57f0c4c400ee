import { defineEventHandler, setResponseStatus } from "h3";
import { signUp } from "../../auth/accounts.ts";
import { parseSignUpFields } from "../../auth/credentials.ts";
import { startSession } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import { clientRateLimitKey } from "../../http/client-ip.ts";
import {
  failRequest,
  failTooManyAttempts,
  readCheckedForm,
  safeNextPath,
  succeedRequest,
  wantsJson,
} from "../../http/respond.ts";

// Creates the account, signs the reader in and emails the link that confirms
// their address.
export default defineEventHandler(async (event) => {
  const form = await readCheckedForm(event, "/signup/", parseSignUpFields);
  if (!form.ok) return form.answer;
  const { fields, formPage, result: parsed } = form;

  const result = await signUp(useDb(), parsed.credentials, clientRateLimitKey(event));
  if (!result.ok && result.reason === "rate-limited") {
    return failTooManyAttempts(event, result.retryAfterSeconds, formPage);
  }
  if (!result.ok) {
    // This answer tells that the address has an account; the README's "What
    // the forms tell" says why Tierwall accepts that here and how it is limited.
    const message =
      "An account with this email address already exists. Sign in instead, or reset your password if you have forgotten it.";
    return failRequest(event, 409, message, formPage);
  }

  await startSession(event, result.reader.id);
  if (wantsJson(event)) setResponseStatus(event, 201);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"), {
    ok: true,
    user: { id: result.reader.id, email: result.reader.email },
  });
});
