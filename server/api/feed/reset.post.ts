import { defineEventHandler, sendRedirect, setResponseHeader } from "h3";
import { answerSignedOut } from "../../billing/reader.ts";
import { useDb } from "../../db/database.ts";
import { resetPrivateFeed } from "../../feeds/address.ts";
import { wantsJson } from "../../http/respond.ts";

// A new private feed address for a reader whose old one got out.
export default defineEventHandler(async (event) => {
  setResponseHeader(event, "cache-control", "private, no-store");

  const reader = event.context.user;
  if (!reader) {
    return answerSignedOut(
      event,
      "/login/?next=/account/",
      "Sign in to reset your private feed.",
    );
  }

  const url = resetPrivateFeed(useDb(), reader.id);
  if (wantsJson(event)) return { url };
  return sendRedirect(event, "/account/", 303);
});
