import { defineEventHandler } from "h3";
import { changePassword } from "../../auth/account-settings.ts";
import { unixNow } from "../../auth/accounts.ts";
import {
  parseCurrentPasswordField,
  parseNewPasswordField,
} from "../../auth/credentials.ts";
import { startSession } from "../../auth/sessions.ts";
import { useDb } from "../../db/database.ts";
import {
  failRequest,
  failSignedOut,
  failTooManyAttempts,
  markPrivate,
  readCheckedForm,
  succeedWithNotice,
} from "../../http/respond.ts";

const SAME_PASSWORD =
  "Choose a password different from the current one. Nothing was changed.";

// A new password from the account page: every other session ends, and this one
// continues under a new id.
export default defineEventHandler(async (event) => {
  markPrivate(event);
  const form = await readCheckedForm(event, "/account/", (fields) => {
    const current = parseCurrentPasswordField(fields.currentPassword);
    if (!current.ok) return current;
    const next = parseNewPasswordField(fields.newPassword);
    return next.ok
      ? { ok: true as const, current: current.value, next: next.value }
      : next;
  });
  if (!form.ok) return form.answer;
  const reader = event.context.user;
  if (!reader) return failSignedOut(event, "Sign in to change your password.");

  const { current, next } = form.result;
  const outcome = await changePassword(useDb(), reader, { current, next }, unixNow());
  if (!outcome.ok && outcome.reason === "rate-limited") {
    return failTooManyAttempts(event, outcome.retryAfterSeconds, "/account/");
  }
  if (!outcome.ok && outcome.reason === "same-password") {
    return failRequest(event, 400, SAME_PASSWORD, "/account/");
  }
  if (!outcome.ok)
    return failRequest(event, 403, "Your current password is not right.", "/account/");

  await startSession(event, reader.id);
  const message = "Your password is changed. Every other device was signed out.";
  return succeedWithNotice(event, "/account/", message);
});
