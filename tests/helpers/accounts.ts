import { expect } from "vitest";
import type { ReceivedEmail } from "../../emulators/resend/emails.ts";
import { type ServerProcess, startServer } from "../../scripts/stack.ts";
import { postJsonTo } from "./http.ts";
import { currentTestBuild } from "./paths.ts";
import { type Stack, startStack } from "./stack.ts";

/**
 * What reader-account tests do again and again against one stack: post as a
 * browser form or as a script, wait for an email the server queued and read
 * its link out of what reached the Resend emulator, open that link as a reader
 * would (the page, then its button), peek into SQLite, and restart the server.
 */

export const PASSWORD = "correct horse battery";

export type Accounts = ReturnType<typeof accountsFor>;

/**
 * The built server behind one trusted proxy, so that each request can speak
 * as a client of its own (`newClient()` in X-Forwarded-For) and tests do not
 * share the per-client limits; with the account helpers for it.
 */
export async function startAccountsStack(
  env: Record<string, string> = {},
): Promise<{ stack: Stack; accounts: Accounts }> {
  const stack = await startStack({ env: { TRUST_PROXY: "1", ...env } });
  return { stack, accounts: accountsFor(stack) };
}

export type Template =
  | "verify-email"
  | "sign-in-link"
  | "password-reset"
  | "email-changed"
  | "welcome";

export interface DeliveredEmail {
  email: ReceivedEmail;
  idempotencyKey: string;
  /** The data the server queued, as stored in the outbox. */
  data: Record<string, string>;
}

export interface EmailedLink {
  url: URL;
  token: string;
  next: string | null;
}

let addressCount = 0;
let clientCount = 0;

export function newAddress(label = "reader"): string {
  addressCount++;
  return `${label}-${addressCount}-${Date.now()}@example.com`;
}

/** A client address of its own, for a stack that trusts one proxy (TRUST_PROXY=1). */
export function newClient(): string {
  clientCount++;
  return `10.${process.pid % 250}.${Math.floor(clientCount / 250)}.${clientCount % 250}`;
}

export function accountsFor(stack: Stack) {
  let replacement: ServerProcess | undefined;

  const postJson = (
    path: string,
    body: Record<string, string>,
    cookie?: string,
    headers: Record<string, string> = {},
  ): Promise<Response> => postJsonTo(stack.baseUrl, path, body, { cookie, headers });

  /**
   * Signs a reader up from a client of their own (the stack trusts one proxy),
   * so that tests do not share the per-client limits. Returns the session cookie.
   */
  const signUp = async (email = newAddress(), password = PASSWORD) => {
    const response = await postJson("/api/auth/signup", { email, password }, undefined, {
      "x-forwarded-for": newClient(),
    });
    expect(response.status).toBe(201);
    const setCookie = response.headers.getSetCookie()[0] ?? "";
    return { email, password, cookie: cookiePair(setCookie) };
  };

  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = stack.openDb();
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };

  const run = (sql: string, ...params: unknown[]): void => {
    const db = stack.openDb();
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };

  const userId = (email: string): string => {
    const [row] = query<{ id: string }>("SELECT id FROM user WHERE email = ?", email);
    if (!row) throw new Error(`No user ${email}`);
    return row.id;
  };

  const me = async (cookie?: string): Promise<Record<string, unknown> | null> => {
    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: cookie ? { cookie } : {},
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { user: Record<string, unknown> | null }).user;
  };

  /** Emails of one template queued for one address, oldest first. */
  const queued = (to: string, template: Template) =>
    query<{
      idempotency_key: string;
      status: string;
      resend_id: string | null;
      data: string;
    }>(
      `SELECT idempotency_key, status, resend_id, data FROM outbox
        WHERE to_address = ? AND template = ? ORDER BY id`,
      to,
      template,
    );

  /**
   * Waits until the `count`-th email of this template for this address has
   * reached the Resend emulator, and returns it.
   */
  const waitForEmail = async (
    to: string,
    template: Template,
    count = 1,
  ): Promise<DeliveredEmail> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const row = queued(to, template)[count - 1];
      const email =
        row?.resend_id &&
        stack.resendEmulator.emails().find((m) => m.id === row.resend_id);
      if (row && email) {
        return { email, idempotencyKey: row.idempotency_key, data: JSON.parse(row.data) };
      }
      if (row?.status === "failed") throw new Error(`${template} to ${to} failed`);
      if (Date.now() > deadline) {
        throw new Error(`No ${template} email #${count} reached Resend for ${to}`);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  };

  /** The link in an email, read from the text the reader got. */
  const linkIn = (delivered: DeliveredEmail): EmailedLink => {
    const bodies = [
      delivered.email.text ?? "",
      (delivered.email.html ?? "").replaceAll("&amp;", "&"),
    ];
    for (const body of bodies) {
      const match = body.match(
        /https?:\/\/[^\s"'<>]+#token=[A-Za-z0-9_-]+(?:&next=[^\s"'<>]+)?/,
      );
      if (!match) continue;
      const url = new URL(match[0]);
      const fragment = new URLSearchParams(url.hash.slice(1));
      return { url, token: fragment.get("token") ?? "", next: fragment.get("next") };
    }
    throw new Error(`The ${delivered.idempotencyKey} email holds no link`);
  };

  const emailedLink = async (
    to: string,
    template: Template,
    count = 1,
  ): Promise<EmailedLink> => linkIn(await waitForEmail(to, template, count));

  /**
   * Opens an emailed link as a reader does: the page it points at loads (a
   * static page on this server), then its button posts the token from the
   * fragment. `fields` adds the form's other inputs (a new password).
   */
  const followLink = async (
    link: EmailedLink,
    options: { cookie?: string; fields?: Record<string, string>; json?: boolean } = {},
  ): Promise<Response> => {
    const page = await fetch(`${stack.baseUrl}${link.url.pathname}`);
    expect(page.status).toBe(200);
    // The page's own form, inside <main>: the header and notices hold others.
    const html = (await page.text()).split("<main")[1] ?? "";
    const action = html.match(/<form[^>]*method="post" action="([^"]+)"/)?.[1];
    if (!action) throw new Error(`${link.url.pathname} has no form to post the link`);

    const fields = {
      ...options.fields,
      token: link.token,
      ...(link.next ? { next: link.next } : {}),
    };
    if (options.json) return postJson(action, fields, options.cookie);
    return stack.post(action, fields, options.cookie);
  };

  /** Stops the server and starts it again on the same port and database. */
  const restartServer = async (env: Record<string, string> = {}): Promise<void> => {
    await (replacement ?? stack.server).stop();
    replacement = await startServer(currentTestBuild().outputDir, {
      PORT: new URL(stack.baseUrl).port,
      HOST: "127.0.0.1",
      SITE_URL: stack.baseUrl,
      DATABASE_PATH: stack.databasePath,
      DIST_DIR: stack.distDir,
      STRIPE_API_BASE: stack.stripeUrl,
      STRIPE_SECRET_KEY: "sk_test_tierwall_offline",
      STRIPE_WEBHOOK_SECRET: stack.webhookSecret,
      RESEND_BASE_URL: stack.resendUrl,
      RESEND_API_KEY: "re_test_tierwall_offline",
      ...env,
    });
  };

  /** Stops the stack, and the server a restart started, if any. */
  const stop = async (): Promise<void> => {
    await replacement?.stop();
    await stack.stop();
  };

  return {
    postJson,
    signUp,
    query,
    run,
    userId,
    me,
    queued,
    waitForEmail,
    linkIn,
    emailedLink,
    followLink,
    restartServer,
    stop,
  };
}

/** The value of the session cookie a response sets, by its name. */
export function setCookieNamed(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((header) => header.startsWith(`${name}=`));
}

/** The `name=value` pair a browser sends back for a Set-Cookie header. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(";")[0] ?? "";
}

export function maxAgeOf(setCookie: string): number {
  const match = setCookie.match(/;\s*Max-Age=(\d+)/i);
  if (!match) throw new Error(`No Max-Age in ${setCookie}`);
  return Number(match[1]);
}

export interface Flash {
  page: string;
  kind: "error" | "notice";
  message: string;
}

/** The flash cookie a form answer sets: the message its page shows once. */
export function flashOf(response: Response): Flash | null {
  const header = response.headers
    .getSetCookie()
    .find((value) => /^(__Host-)?tierwall_flash=/.test(value));
  if (!header) return null;
  const value = cookiePair(header).slice(cookiePair(header).indexOf("=") + 1);
  return JSON.parse(decodeURIComponent(value)) as Flash;
}

export interface FormAnswer {
  /** Where the 303 sends the browser. */
  location: URL;
  /** The message left for that page, by kind; null when there is none. */
  error: string | null;
  notice: string | null;
}

/**
 * A form post's 303, as the browser follows it: the page it lands on and the
 * message the flash cookie leaves there. A message must name the page the
 * browser lands on, or no page would show it.
 */
export function formAnswerOf(response: Response, base: string): FormAnswer {
  const location = new URL(response.headers.get("location") ?? "", base);
  const flash = flashOf(response);
  if (flash) expect(flash.page).toBe(location.pathname);
  return {
    location,
    error: flash?.kind === "error" ? flash.message : null,
    notice: flash?.kind === "notice" ? flash.message : null,
  };
}
