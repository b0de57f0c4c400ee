import { createError, defineEventHandler, getRequestHeader } from "h3";
import { allowedOrigins, checkRequestOrigin } from "../http/origin.ts";

// Runs first: a cross-site write is refused before it can touch a session.
export default defineEventHandler((event) => {
  const verdict = checkRequestOrigin(
    {
      method: event.method,
      path: event.path,
      origin: getRequestHeader(event, "origin"),
      referer: getRequestHeader(event, "referer"),
    },
    allowedOrigins(),
  );
  if (!verdict.allowed) throw createError({ statusCode: 403, message: verdict.reason });
});
