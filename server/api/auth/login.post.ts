import { defineEventHandler } from "h3";
import { signIn } from "../../auth/accounts.ts";
import { parseSignInFields } from "../../auth/credentials.ts";
import { startSession } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import { clientRateLimitKey } from "../../http/client-ip.ts";
import {
  failRequest,
  failTooManyAttempts,
  formPageWithNext,
  readFields,
  safeNextPath,
  succeedRequest,
} from "../../http/respond.ts";

// One message for an unknown address and a wrong password, so that the form
// does not tell anyone which addresses have accounts.
const WRONG_CREDENTIALS = "Wrong email or password.";

export default defineEventHandler(async (event) => {
  const fields = await readFields(event);
  const formPage = formPageWithNext("/login/", fields.next);

  const parsed = parseSignInFields(fields);
  if (!parsed.ok) return failRequest(event, 400, parsed.message, formPage);

  const result = await signIn(useDb(), parsed.credentials, clientRateLimitKey(event));
  if (!result.ok && result.reason === "rate-limited") {
    return failTooManyAttempts(event, result.retryAfterSeconds, formPage);
  }
  if (!result.ok) return failRequest(event, 401, WRONG_CREDENTIALS, formPage);

  await startSession(event, result.reader.id);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"), {
    ok: true,
    user: { id: result.reader.id, email: result.reader.email },
  });
});
