import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { defineNitroPlugin } from "nitropack/runtime";
import { beforeHeadersGoOut } from "../http/headers-out.ts";

/**
 * An answer that sets a cookie is about one visitor: a session, a flash
 * message, a gated page's pass. It must never sit in a shared cache, so it
 * leaves with `Cache-Control: private, no-store` whatever the route chose,
 * unless the route already said `no-store`.
 *
 * The check runs as the headers go out, not after the handler returns:
 * redirects, error answers and streamed files are sent from inside the
 * handler. It is arranged first, so it runs after every other
 * `beforeHeadersGoOut` (the edge cookies) has added its cookies.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook("request", (event) => {
    const res = event.node.res;
    beforeHeadersGoOut(res, (given) => markCookieAnswerPrivate(res, given));
  });
});

const PRIVATE_CACHE = "private, no-store";

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
