import { createError, defineEventHandler, getRequestHeader } from "h3";

/**
 * Runs before anything reads a body. Every body Tierwall accepts is small: a
 * sign-in form, a checkout form, a Stripe event. Refusing large or unsized
 * bodies up front keeps one request from making the server buffer megabytes.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

export default defineEventHandler((event) => {
  if (event.method === "GET" || event.method === "HEAD" || event.method === "OPTIONS")
    return;

  const length = getRequestHeader(event, "content-length");
  if (length === undefined) {
    // Without a length the body's size is known only after reading it.
    if (getRequestHeader(event, "transfer-encoding")) {
      throw createError({
        statusCode: 411,
        message: "Send the body with a Content-Length.",
      });
    }
    return;
  }

  if (!/^\d+$/.test(length)) {
    throw createError({ statusCode: 400, message: "Content-Length must be a number." });
  }
  if (Number(length) > MAX_BODY_BYTES) {
    throw createError({
      statusCode: 413,
      message: `The request body is too large: at most ${MAX_BODY_BYTES} bytes.`,
    });
  }
});
