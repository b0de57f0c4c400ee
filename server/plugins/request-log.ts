import type { H3Event } from "h3";
import { defineNitroPlugin } from "nitropack/runtime";
import { logError, logLine, redactEmails } from "../log.ts";

/**
 * One JSON line per request on stdout: time, method, route, status, duration
 * in milliseconds and the pid of the server process that answered. The route
 * is the path with secrets taken out: query values are dropped (their names
 * stay) and a private feed address loses its token. Nothing else about the
 * request is logged: no headers, so no cookie, session id or signature, and
 * no body, so no password or address.
 *
 * The line is written when Node has finished the response (or the client went
 * away), which covers answers from handlers, error answers and 404s alike and
 * measures the whole response. Unexpected errors get a line of their own with
 * the stack, from Nitro's `error` hook.
 *
 * LOG_REQUESTS=0 turns request lines off; error lines stay.
 */
export default defineNitroPlugin((nitroApp) => {
  if (readRequestLogging()) {
    nitroApp.hooks.hook("request", (event) => {
      const started = performance.now();
      const { res } = event.node;
      const write = (): void => {
        res.off("finish", write).off("close", write);
        writeRequestLine(event, started);
      };
      res.once("finish", write).once("close", write);
    });
  }

  nitroApp.hooks.hook("error", (error, { event }) => {
    if (!isUnexpected(error)) return;
    const where = event ? ` in ${event.method} ${routeOf(event)}` : "";
    logError("http", `unexpected error${where}`, unwrap(error));
  });
});

/** LOG_REQUESTS: "0", "false" or "off" turn request lines off (default on). */
export function readRequestLogging(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.LOG_REQUESTS?.trim().toLowerCase();
  return !(value === "0" || value === "false" || value === "off");
}

function writeRequestLine(event: H3Event, started: number): void {
  const { res } = event.node;
  const line = logLine("info", "http", {
    method: event.method,
    route: routeOf(event),
    // 499: the client went away before the answer was complete.
    status: res.writableEnded ? res.statusCode : 499,
    ms: Math.round((performance.now() - started) * 10) / 10,
  });
  process.stdout.write(`${line}\n`);
}

/** The request's whole path, as it came in, redacted and cut to a sane length. */
function routeOf(event: H3Event): string {
  return redactRoute(event.node.req.originalUrl ?? event.path).slice(0, MAX_ROUTE_LENGTH);
}

const MAX_ROUTE_LENGTH = 300;

/**
 * A private feed address is `/feeds/<token>.xml`, the token 32 bytes in
 * base64url. Anything long enough to be one, anywhere under `/feeds/`, is
 * dropped, so that a mistyped address (no `.xml`, a stray suffix, an encoded
 * byte) does not write a reader's token to the log either.
 */
const feedTokenPattern = /[A-Za-z0-9_-]{20,}/g;

/**
 * Whether the path may be a feed address however it is spelled: `//feeds/`,
 * `/FEEDS/`, `/%66eeds/` and `/x/../feeds/` all reach the feed route or look
 * like they meant to.
 */
function mentionsFeeds(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape: judge the path as written.
  }
  return /feeds/i.test(decoded);
}

/**
 * The path as it may be logged: `/feeds/<token>.xml` becomes
 * `/feeds/[token].xml`, and `?session_id=cs_123&x=1` becomes
 * `?session_id=&x=`. Emailed links carry their tokens in the URL's fragment,
 * which browsers never send, so they never reach this far.
 */
export function redactRoute(url: string): string {
  const queryAt = url.indexOf("?");
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const unfed = mentionsFeeds(path) ? path.replace(feedTokenPattern, "[token]") : path;
  const redactedPath = redactEmails(unfed);
  if (queryAt === -1) return redactedPath;

  const names = url
    .slice(queryAt + 1)
    .split("&")
    .filter((pair) => pair.length > 0)
    .map((pair) => `${redactEmails(pair.split("=")[0] ?? "")}=`);
  return `${redactedPath}?${names.join("&")}`;
}

interface NitroErrorLike {
  unhandled?: boolean;
  fatal?: boolean;
  cause?: unknown;
}

/**
 * A thrown error no code turned into an answer: a bug, or an outage nobody
 * caught. An error made with `createError` (a 404, a 409, a 503 for an outage)
 * is an answer its code chose, and logged there when it is worth it.
 */
function isUnexpected(error: unknown): boolean {
  const { unhandled, fatal } = (error ?? {}) as NitroErrorLike;
  return Boolean(unhandled || fatal);
}

/** h3 wraps a thrown error; the original holds the stack worth reading. */
function unwrap(error: unknown): unknown {
  const { cause } = (error ?? {}) as NitroErrorLike;
  return cause instanceof Error ? cause : error;
}
