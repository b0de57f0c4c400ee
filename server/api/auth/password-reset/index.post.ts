import { defineEventHandler, setResponseStatus } from "h3";
import { unixNow } from "../../../auth/accounts.ts";
import { parseEmailField } from "../../../auth/credentials.ts";
import { waitForAnswerFloor } from "../../../auth/link-requests.ts";
import { requestPasswordReset } from "../../../auth/password-reset.ts";
import { useDb } from "../../../db/database.ts";
import { clientRateLimitKey } from "../../../http/client-ip.ts";
import {
  failTooManyAttempts,
  readCheckedForm,
  succeedWithNotice,
  wantsJson,
} from "../../../http/respond.ts";

// "Forgot your password?". The answer never says whether the address has an account.
export default defineEventHandler(async (event) => {
  const form = await readCheckedForm(event, "/reset-password/", (fields) =>
    parseEmailField(fields.email),
  );
  if (!form.ok) return form.answer;
  const email = form.result.value;

  // The floor evens out the time an account's path and a stranger's take.
  const started = performance.now();
  const outcome = requestPasswordReset(
    useDb(),
    email,
    clientRateLimitKey(event),
    unixNow(),
  );
  await waitForAnswerFloor(started);
  if (!outcome.ok)
    return failTooManyAttempts(event, outcome.retryAfterSeconds, form.formPage);

  if (wantsJson(event)) setResponseStatus(event, 202);
  const message = `If ${email} has an account, a link to choose a new password is on its way. It works once, for an hour.`;
  return succeedWithNotice(event, "/reset-password/", message);
});
