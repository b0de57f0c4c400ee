import { defineEventHandler } from "h3";
import { endSession } from "../../auth/sessions.ts";
import { readFields, safeNextPath, succeedRequest } from "../../http/respond.ts";

// Always succeeds: signing out without a session still clears the cookie.
export default defineEventHandler(async (event) => {
  const fields = await readFields(event);

  await endSession(event);
  return succeedRequest(event, safeNextPath(fields.next, "/"));
});
