import { defineEventHandler, setResponseStatus } from "h3";
import { signUp } from "../../auth/accounts.ts";
import { parseSignUpFields } from "../../auth/credentials.ts";
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
  wantsJson,
} from "../../http/respond.ts";

// Creates the account, signs the reader in and queues the welcome email.
export default defineEventHandler(async (event) => {
  const fields = await readFields(event);
  const formPage = formPageWithNext("/signup/", fields.next);

  const parsed = parseSignUpFields(fields);
  if (!parsed.ok) return failRequest(event, 400, parsed.message, formPage);

  const result = await signUp(useDb(), parsed.credentials, clientRateLimitKey(event));
  if (!result.ok && result.reason === "rate-limited") {
    return failTooManyAttempts(event, result.retryAfterSeconds, formPage);
  }
  if (!result.ok) {
    const message = "An account with this email address already exists. Sign in instead.";
    return failRequest(event, 409, message, formPage);
  }

  await startSession(event, result.reader.id);
  if (wantsJson(event)) setResponseStatus(event, 201);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"), {
    ok: true,
    user: { id: result.reader.id, email: result.reader.email },
  });
});
