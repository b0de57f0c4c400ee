/*
 * Routes of the Resend emulator.
 *
 * Resend's API (needs `Authorization: Bearer re_…`):
 *   POST /emails          send one email → { id }
 *   POST /emails/batch    send up to 100 → { data: [{ id }] }
 *   GET  /emails/:id      one email, shaped like the SDK's GetEmailResponseSuccess
 *
 * Pages: GET / (inbox, newest first), GET /view/:id, GET /view/:id/html.
 *
 * Test-only control routes (no key):
 *   GET  /_emulator/emails?to=addr   accepted emails, oldest first, optionally for one recipient
 *   POST /_emulator/reset            forgets all emails, keys and outages
 *   POST /_emulator/fail-next        { "count": n, "status"?: 500 | 429 | … }: the next n
 *                                    sends fail with that status and store nothing
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
  setResponseStatus,
} from "h3";
import { sendHtml } from "../shared/http.ts";
import { presentEmail, ResendApiError } from "./emails.ts";
import { buildBatch, buildSingle, type Mailbox } from "./mailbox.ts";
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

function apiRoute(log: (line: string) => void, handler: ApiHandler) {
  return eventHandler(async (event) => {
    try {
      authenticate(event);
      const result = await handler(event);
      log(`[resend] ${event.method} ${event.path} 200`);
      return result;
    } catch (error) {
      if (!(error instanceof ResendApiError)) throw error;
      log(`[resend] ${event.method} ${event.path} ${error.statusCode} ${error.message}`);
      setResponseStatus(event, error.statusCode);
      return error.toBody();
    }
  });
}

function registerApi(
  router: ReturnType<typeof createRouter>,
  mailbox: Mailbox,
  log: (line: string) => void,
): void {
  const key = (event: H3Event): string | undefined =>
    getRequestHeader(event, "idempotency-key");

  router.post(
    "/emails",
    apiRoute(log, async (event) =>
      mailbox.send("emails", await readJson(event), key(event), buildSingle),
    ),
  );
  router.post(
    "/emails/batch",
    apiRoute(log, async (event) => {
      const mode =
        getRequestHeader(event, "x-batch-validation") === "permissive"
          ? "permissive"
          : "strict";
      return mailbox.send("batch", await readJson(event), key(event), (payload) =>
        buildBatch(payload, mode),
      );
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
  router.post(
    "/_emulator/fail-next",
    eventHandler(async (event) => {
      const body = ((await readBody(event)) ?? {}) as {
        count?: unknown;
        status?: unknown;
      };
      mailbox.failNext(Number(body.count ?? 1), Number(body.status ?? 500));
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
