import { createError, defineEventHandler, setResponseHeader } from "h3";
import { useDb } from "../../db/database.ts";
import { privateFeedUrl } from "../../feeds/address.ts";

// The signed-in reader's private feed address, created the first time they ask.
export default defineEventHandler((event) => {
  setResponseHeader(event, "cache-control", "private, no-store");

  const reader = event.context.user;
  if (!reader) {
    throw createError({ statusCode: 401, message: "Sign in to see your private feed." });
  }
  return { url: privateFeedUrl(useDb(), reader.id) };
});
