import { defineEventHandler } from "h3";
import { unixNow } from "../../../auth/accounts.ts";
import { parseNewPasswordField } from "../../../auth/credentials.ts";
import { describeLinkFailure } from "../../../auth/email-links.ts";
import { completePasswordReset } from "../../../auth/password-reset.ts";
import { startSession } from "../../../auth/sessions.ts";
import { useDb } from "../../../db/database.ts";
import {
  failRequest,
  readCheckedForm,
  succeedWithNotice,
} from "../../../http/respond.ts";

// The form a reset link opens: sets the new password, signs the reader out
// everywhere, and signs this browser in with a new session.
export default defineEventHandler(async (event) => {
  const form = await readCheckedForm(event, "/reset-password/new/", (fields) =>
    parseNewPasswordField(fields.password),
  );
  if (!form.ok) return form.answer;

  const db = useDb();
  const outcome = await completePasswordReset(
    db,
    form.fields.token ?? "",
    form.result.value,
    unixNow(),
  );
  if (!outcome.ok) {
    const refusal = describeLinkFailure(outcome.reason, "Ask for a new one below.");
    return failRequest(event, refusal.status, refusal.message, "/reset-password/");
  }

  await startSession(event, outcome.readerId);
  const message = "Your new password is set. You were signed out everywhere else.";
  return succeedWithNotice(event, "/account/", message);
});
