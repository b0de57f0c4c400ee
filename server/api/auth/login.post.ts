import { defineEventHandler, type H3Event, setResponseHeader } from "h3";
import { signIn } from "../../auth/accounts.ts";
import { parseSignInFields } from "../../auth/credentials.ts";
import { startSession } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import { clientRateLimitKey } from "../../http/client-ip.ts";
import {
  failRequest,
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
    return failLockedSignIn(event, result.retryAfterSeconds, formPage);
  }
  if (!result.ok) return failRequest(event, 401, WRONG_CREDENTIALS, formPage);

  await startSession(event, result.reader.id);
  return succeedRequest(event, safeNextPath(fields.next, "/account/"), {
    ok: true,
    user: { id: result.reader.id, email: result.reader.email },
  });
});

/**
 * 429 with Retry-After. Anyone can lock an address by typing wrong passwords
 * for it, so the message shows its reader the ways in that need no password.
 */
function failLockedSignIn(
  event: H3Event,
  retryAfterSeconds: number,
  formPage: string,
): Promise<unknown> {
  setResponseHeader(event, "retry-after", retryAfterSeconds);
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  const wait = minutes === 1 ? "a minute" : `${minutes} minutes`;
  const message =
    `Too many attempts. Try again in ${wait}, or get in now with an emailed ` +
    "sign-in link or a password reset.";
  return failRequest(event, 429, message, formPage);
}
