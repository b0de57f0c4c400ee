import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { defineNitroPlugin } from "nitropack/runtime";

/**
 * An answer that sets a cookie is about one visitor: a session, a flash
 * message, a gated page's pass. It must never sit in a shared cache, so it
 * leaves with `Cache-Control: private, no-store` whatever the route chose,
 * unless the route already said `no-store`.
 *
 * The check runs as the headers go out, not after the handler returns:
 * redirects, error answers and streamed files are sent from inside the
 * handler, and Node writes every answer's headers through `writeHead` (an
 * answer that never calls it gets an implicit call on its first write).
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook("request", (event) => {
    guardCookieAnswers(event.node.res);
  });
});

const PRIVATE_CACHE = "private, no-store";

function guardCookieAnswers(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    res.writeHead = writeHead;
    markCookieAnswerPrivate(res, headersArgument(args));
    return Reflect.apply(writeHead, this, args) as ServerResponse;
  } as ServerResponse["writeHead"];
}

/** `writeHead(status, [message], [headers])`: the headers given there, if any. */
function headersArgument(args: unknown[]): OutgoingHttpHeaders | undefined {
  const last = args.length > 1 ? args[args.length - 1] : undefined;
  if (last === null || typeof last !== "object" || Array.isArray(last)) return undefined;
  return last as OutgoingHttpHeaders;
}

function markCookieAnswerPrivate(
  res: ServerResponse,
  given: OutgoingHttpHeaders = {},
): void {
  const givenName = (wanted: string): string | undefined =>
    Object.keys(given).find((name) => name.toLowerCase() === wanted);
  if (!res.hasHeader("set-cookie") && !givenName("set-cookie")) return;

  // A header passed to writeHead wins over one set before it.
  const cacheName = givenName("cache-control");
  const current = String(
    (cacheName ? given[cacheName] : res.getHeader("cache-control")) ?? "",
  );
  if (/\bno-store\b/i.test(current)) return;

  if (cacheName) given[cacheName] = PRIVATE_CACHE;
  res.setHeader("cache-control", PRIVATE_CACHE);
}
