import { STATUS_CODES } from "node:http";
import { send, setResponseHeader, setResponseHeaders, setResponseStatus } from "h3";
import { defineNitroErrorHandler } from "nitropack/runtime";
import { allowedApiMethods } from "./http/api-methods.ts";
import { OUTAGE_RETRY_SECONDS } from "./http/respond.ts";

/**
 * Nitro's production error answer, with the reason phrase that belongs to the
 * status ("Forbidden", not "Server Error") when the code that threw gave none.
 * Nitro's own handler answers unexpected errors with a bare "Server Error",
 * never with the error's message or stack.
 */
export default defineNitroErrorHandler(async (error, event, { defaultHandler }) => {
  const statusCode = error.statusCode || 500;
  if (statusCode === 405 && error.statusMessage?.startsWith("Method ")) {
    // h3's router refusing a method: its phrase ("Method get is not allowed on
    // this route.") would become the status line; say it as the API says things,
    // and name the methods the endpoint does take, as a 405 must.
    error.statusMessage = STATUS_CODES[405];
    error.message = `This endpoint does not accept ${event.method}.`;
    const allowed = allowedApiMethods(event.path.split("?")[0] ?? "");
    if (allowed.length > 0) setResponseHeader(event, "allow", allowed.join(", "));
  }
  if (!error.unhandled && !error.statusMessage) {
    error.statusMessage = STATUS_CODES[statusCode] ?? "Error";
  }

  // Silent: server/plugins/request-log.ts logs unexpected errors as JSON,
  // without the query string Nitro's own line would print.
  const answer = await defaultHandler(error, event, { silent: true });
  setResponseHeaders(event, answer.headers);
  if (statusCode === 503 && !event.node.res.hasHeader("retry-after")) {
    setResponseHeader(event, "retry-after", OUTAGE_RETRY_SECONDS);
  }
  setResponseStatus(event, answer.status, answer.statusText);
  return send(event, JSON.stringify(answer.body, null, 2));
});
