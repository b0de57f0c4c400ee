import { defineEventHandler, setResponseStatus } from "h3";
import { unixNow } from "../../../auth/accounts.ts";
import { parseEmailField } from "../../../auth/credentials.ts";
import { waitForAnswerFloor } from "../../../auth/link-requests.ts";
import { requestSignInLink } from "../../../auth/sign-in-links.ts";
import { useDb } from "../../../db/database.ts";
import { clientRateLimitKey } from "../../../http/client-ip.ts";
import {
  failTooManyAttempts,
  readCheckedForm,
  safeNextPath,
  succeedWithNotice,
  wantsJson,
} from "../../../http/respond.ts";

// "Email me a sign-in link". The answer is the same for every address, so the
// form does not tell anyone which addresses have accounts.
export default defineEventHandler(async (event) => {
  const form = await readCheckedForm(event, "/login/", (fields) =>
    parseEmailField(fields.email),
  );
  if (!form.ok) return form.answer;
  const email = form.result.value;
  const next = safeNextPath(form.fields.next, "/account/");

  // The floor evens out the time an account's path and a stranger's take.
  const started = performance.now();
  const outcome = requestSignInLink(
    useDb(),
    email,
    next,
    clientRateLimitKey(event),
    unixNow(),
  );
  await waitForAnswerFloor(started);
  if (!outcome.ok)
    return failTooManyAttempts(event, outcome.retryAfterSeconds, form.formPage);

  if (wantsJson(event)) setResponseStatus(event, 202);
  const message = `If ${email} has an account, a sign-in link is on its way. It works once, for 15 minutes.`;
  return succeedWithNotice(event, form.formPage, message);
});
