/**
 * The methods each API endpoint takes, as its files in server/api declare them
 * (`me.get.ts`, `me.head.ts`). Nitro's router knows them too, but does not say
 * them when it refuses a method, and a 405 must name the ones it takes in
 * `Allow`. tests/integration/api-methods.test.ts checks this table against the
 * files, and every refusal against it.
 */
export const API_METHODS: Readonly<Record<string, readonly string[]>> = {
  "/api/account/delete": ["POST"],
  "/api/account/email": ["POST"],
  "/api/account/export": ["GET"],
  "/api/account/password": ["POST"],
  "/api/auth/login": ["POST"],
  "/api/auth/logout": ["POST"],
  "/api/auth/password-reset": ["POST"],
  "/api/auth/password-reset/confirm": ["POST"],
  "/api/auth/signin-link": ["POST"],
  "/api/auth/signin-link/confirm": ["POST"],
  "/api/auth/signup": ["POST"],
  "/api/auth/verify-email": ["POST"],
  "/api/auth/verify-email/resend": ["POST"],
  "/api/billing/checkout": ["POST"],
  "/api/billing/portal": ["POST"],
  "/api/billing/success": ["GET"],
  "/api/feed": ["GET"],
  "/api/feed/reset": ["POST"],
  "/api/health": ["GET", "HEAD"],
  "/api/me": ["GET", "HEAD"],
  "/api/pricing": ["GET", "HEAD"],
  "/api/stripe/webhook": ["POST"],
};

/** Whether a path is the API's, for any method: `/api` and all below it. */
export function isApiPath(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/");
}

/**
 * The methods the endpoint at `pathname` takes, for an `Allow` header; none
 * when no endpoint is there. A trailing slash reaches the same endpoint.
 */
export function allowedApiMethods(pathname: string): readonly string[] {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  return Object.hasOwn(API_METHODS, path) ? (API_METHODS[path] ?? []) : [];
}
