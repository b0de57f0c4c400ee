/*
 * Routes of the Resend emulator.
 *
 * Resend's API (needs `Authorization: Bearer re_…`):
 *   POST /emails          send one email → { id }
 *   POST /emails/batch    send up to 100 → { data: [{ id }] }
 *   GET  /emails/:id      one email, shaped like the SDK's GetEmailResponseSuccess
 * Both sends honour `Idempotency-Key` (1–256 characters, kept 24 hours): the
 * same key with the same body answers the first answer again and stores
 * nothing; the same key with another body is refused with 409
 * `invalid_idempotent_request`. Errors answer Resend's body,
 * `{ statusCode, name, message }`.
 *
 * Pages: GET / (inbox, newest first), GET /view/:id, GET /view/:id/html.
 *
 * Test-only control routes (no key, JSON in and out):
 *   GET    /_emulator/emails?to=addr
 *          Accepted emails, oldest first (optionally for one recipient), each
 *          with the `idempotency_key` it was sent with.
 *   GET    /_emulator/attempts
 *          Every request to a send route, oldest first, accepted or not:
 *          { count, attempts: [{ at, route: "emails" | "batch",
 *          idempotency_key, status, error, email_ids, replayed, fault }] }.
 *          `replayed` is true when an earlier send with the same key answered.
 *   POST   /_emulator/faults   { "kind", …, "count"? }
 *          Injects a fault into the next `count` sends, or into every send
 *          until turned off when `count` is absent:
 *            { "kind": "error", "status"?: 500, "name"?, "message"? }
 *              answers that status with Resend's error body (name by default
 *              from the status: 500 internal_server_error, other 5xx
 *              application_error, 422 validation_error, …);
 *            { "kind": "rate_limit", "retry_after"?: 1 }
 *              answers 429 rate_limit_exceeded with `Retry-After: <seconds>`
 *              and the `ratelimit-*` headers;
 *            { "kind": "slow", "delay_ms": n }
 *              accepts the email at once and answers n ms later, as when an
 *              answer is lost on a slow network.
 *            { "kind": "missing_id" }
 *              accepts the email and answers 200 without its id (`{}`; a
 *              batch's entries each `{}`); a retry with the same key gets the
 *              stored id back.
 *          Refused sends store nothing and remember no key. Answers
 *          { fault: { kind, remaining, … } }; 400 for a body it cannot read.
 *   GET    /_emulator/faults          { fault } (null when none is active)
 *   DELETE /_emulator/faults          turns the fault off: { fault: null }
 *   POST   /_emulator/fail-next   { "count": n, "status"?: 500 }
 *          Shorthand for an error fault (a rate limit for 429) on n sends.
 *   POST   /_emulator/reset
 *          Forgets all emails, attempts, keys and faults.
 */
import {
  type App,
  createApp,
  createRouter,
  eventHandler,
  getQuery,
  getRequestHeader,
  getRouterParam,
  type H3Event,
  readBody,
  readRawBody,
  setResponseHeader,
  setResponseHeaders,
  setResponseStatus,
} from "h3";
import { sendHtml } from "../shared/http.ts";
import { presentEmail, type ReceivedEmail, ResendApiError } from "./emails.ts";
import { errorFault, readFault } from "./faults.ts";
import { buildBatch, buildSingle, type Mailbox, type SendAttempt } from "./mailbox.ts";
import { renderEmail, renderInbox, renderNotFound } from "./pages.ts";

function authenticate(event: H3Event): void {
  const header = getRequestHeader(event, "authorization") ?? "";
  const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!key) {
    throw new ResendApiError(
      401,
      "missing_api_key",
      "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
    );
  }
  if (!key.startsWith("re_")) {
    throw new ResendApiError(403, "invalid_api_key", "API key is invalid");
  }
}

async function readJson(event: H3Event): Promise<unknown> {
  const raw = (await readRawBody(event, "utf8")) ?? "";
  try {
    return JSON.parse(raw);
  } catch {
    throw new ResendApiError(
      422,
      "validation_error",
      "The request body is not valid JSON.",
    );
  }
}

type ApiHandler = (event: H3Event) => Promise<unknown> | unknown;
type Log = (line: string) => void;

function answerError(event: H3Event, log: Log, error: ResendApiError): unknown {
  log(`[resend] ${event.method} ${event.path} ${error.statusCode} ${error.message}`);
  setResponseStatus(event, error.statusCode);
  setResponseHeaders(event, error.headers);
  return error.toBody();
}

function apiRoute(log: Log, handler: ApiHandler) {
  return eventHandler(async (event) => {
    try {
      authenticate(event);
      const result = await handler(event);
      log(`[resend] ${event.method} ${event.path} 200`);
      return result;
    } catch (error) {
      if (!(error instanceof ResendApiError)) throw error;
      return answerError(event, log, error);
    }
  });
}

type Build = (payload: unknown) => { emails: ReceivedEmail[]; response: unknown };

/** A send route: every request is recorded as an attempt, refused ones included. */
function sendRoute(
  log: Log,
  mailbox: Mailbox,
  route: SendAttempt["route"],
  buildFor: (event: H3Event) => Build,
) {
  return eventHandler(async (event) => {
    const key = getRequestHeader(event, "idempotency-key");
    const attempt = mailbox.beginAttempt(route, key);
    try {
      authenticate(event);
      const result = await mailbox.send(attempt, await readJson(event), buildFor(event));
      log(`[resend] ${event.method} ${event.path} 200`);
      return result;
    } catch (error) {
      if (!(error instanceof ResendApiError)) throw error;
      attempt.status = error.statusCode;
      attempt.error = error.name;
      return answerError(event, log, error);
    }
  });
}

function registerApi(
  router: ReturnType<typeof createRouter>,
  mailbox: Mailbox,
  log: Log,
): void {
  router.post(
    "/emails",
    sendRoute(log, mailbox, "emails", () => buildSingle),
  );
  router.post(
    "/emails/batch",
    sendRoute(log, mailbox, "batch", (event) => {
      const mode =
        getRequestHeader(event, "x-batch-validation") === "permissive"
          ? "permissive"
          : "strict";
      return (payload) => buildBatch(payload, mode);
    }),
  );
  router.get(
    "/emails/:id",
    apiRoute(log, (event) => {
      const email = mailbox.get(getRouterParam(event, "id") ?? "");
      if (!email) throw new ResendApiError(404, "not_found", "Email not found");
      return presentEmail(email);
    }),
  );
}

function registerPages(router: ReturnType<typeof createRouter>, mailbox: Mailbox): void {
  router.get(
    "/",
    eventHandler((event) => sendHtml(event, renderInbox(mailbox.all()))),
  );
  router.get(
    "/view/:id",
    eventHandler((event) => {
      const email = mailbox.get(getRouterParam(event, "id") ?? "");
      return email
        ? sendHtml(event, renderEmail(email))
        : sendHtml(event, renderNotFound(), 404);
    }),
  );
  router.get(
    "/view/:id/html",
    eventHandler((event) => {
      const email = mailbox.get(getRouterParam(event, "id") ?? "");
      if (!email?.html) return sendHtml(event, renderNotFound(), 404);
      // The body is the sender's markup: no scripts, whatever it contains.
      setResponseHeader(event, "Content-Security-Policy", "script-src 'none'");
      return sendHtml(event, email.html);
    }),
  );
}

function registerControl(
  router: ReturnType<typeof createRouter>,
  mailbox: Mailbox,
): void {
  router.get(
    "/_emulator/emails",
    eventHandler((event) => {
      const to = getQuery(event).to;
      const emails = mailbox.all();
      return typeof to === "string"
        ? emails.filter((email) => email.to.includes(to))
        : emails;
    }),
  );
  router.post(
    "/_emulator/reset",
    eventHandler(() => {
      mailbox.clear();
      return { ok: true };
    }),
  );
  router.get(
    "/_emulator/attempts",
    eventHandler(() => {
      const attempts = mailbox.attempts();
      return { count: attempts.length, attempts };
    }),
  );
  registerFaultControls(router, mailbox);
}

function registerFaultControls(
  router: ReturnType<typeof createRouter>,
  mailbox: Mailbox,
): void {
  router.get(
    "/_emulator/faults",
    eventHandler(() => ({ fault: mailbox.fault() })),
  );
  router.delete(
    "/_emulator/faults",
    eventHandler(() => {
      mailbox.setFault(null);
      return { fault: null };
    }),
  );
  router.post(
    "/_emulator/faults",
    eventHandler(async (event) => {
      const body = ((await readBody(event)) ?? {}) as Record<string, unknown>;
      try {
        mailbox.setFault(readFault(body));
      } catch (error) {
        setResponseStatus(event, 400);
        return { error: (error as Error).message };
      }
      return { fault: mailbox.fault() };
    }),
  );
  router.post(
    "/_emulator/fail-next",
    eventHandler(async (event) => {
      const body = ((await readBody(event)) ?? {}) as {
        count?: unknown;
        status?: unknown;
      };
      const count = Number(body.count ?? 1);
      const fault = errorFault(Number(body.status ?? 500));
      mailbox.setFault(count > 0 ? { fault, remaining: count } : null);
      return { ok: true };
    }),
  );
}

export function createResendApp(mailbox: Mailbox, log: (line: string) => void): App {
  const app = createApp();
  const router = createRouter();
  registerApi(router, mailbox, log);
  registerPages(router, mailbox);
  registerControl(router, mailbox);
  app.use(router);
  app.use(
    eventHandler((event) => {
      setResponseStatus(event, 404);
      return new ResendApiError(
        404,
        "not_found",
        `Nothing here: ${event.method} ${event.path}`,
      ).toBody();
    }),
  );
  return app;
}
