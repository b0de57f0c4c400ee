import { createError, type H3Event, sendRedirect } from "h3";
import { wantsJson } from "../http/respond.ts";

/**
 * The signed-in reader as billing needs them. The session middleware puts the
 * reader on `event.context.user`; it is read here field by field, so billing
 * depends on nothing more than an id and an email.
 */

export interface BillingReader {
  id: string;
  email: string;
}

export function readBillingReader(event: H3Event): BillingReader | null {
  const user: unknown = event.context.user;
  if (typeof user !== "object" || user === null) return null;

  const { id, email } = user as Record<string, unknown>;
  if (typeof id !== "string" || typeof email !== "string") return null;
  return { id, email };
}

/** A signed-out request: 401 for scripts, a 303 to `signInPage` for browsers. */
export async function answerSignedOut(
  event: H3Event,
  signInPage: string,
  message = "Sign in first.",
): Promise<unknown> {
  if (wantsJson(event)) throw createError({ statusCode: 401, message });
  return sendRedirect(event, signInPage, 303);
}
