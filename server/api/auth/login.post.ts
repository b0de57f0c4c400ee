import { defineEventHandler } from "h3";
import { signIn } from "../../auth/accounts.ts";
import { parseSignInFields } from "../../auth/credentials.ts";
import { startSession } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import { clientRateLimitKey } from "../../http/client-ip.ts";
import {
  failRequest,
  failTooManyAttempts,
  readCheckedForm,
  safeNextPath,
  succeedRequest,
} from "../../http/respond.ts";

// One message for an unknown address and a wrong password, so that the form
// does not tell anyone which addresses have accounts.
const WRONG_CREDENTIALS = "Wrong email or password.";

export default defineEventHandler(async (event) => {
  const form = await readCheckedForm(event, "/login/", parseSignInFields);
  if (!form.ok) return form.answer;
  const { fields, formPage, result: parsed } = form;

  const result = await signIn(useDb(), parsed.credentials, clientRateLimitKey(event));
  if (!result.ok && result.reason === "rate-limited") {
    // Anyone can lock an address by typing wrong passwords for it, so the
    // answer shows its reader the ways in that need no password.
    return failTooManyAttempts(
      event,
      result.retryAfterSeconds,
      formPage,
      "get in now with an emailed sign-in link or a password reset",
    );
  }
  if (!result.ok) return failRequest(event, 401, WRONG_CREDENTIALS, formPage);

  await startSession(event, result.reader.id);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"), {
    ok: true,
    user: { id: result.reader.id, email: result.reader.email },
  });
});
