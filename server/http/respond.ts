import {
  createError,
  getHeader,
  getRequestHeader,
  type H3Event,
  readMultipartFormData,
  readRawBody,
  sendRedirect,
  setResponseHeader,
} from "h3";
import { redirectWithFlash } from "./flash.ts";

/**
 * Tierwall's endpoints answer two kinds of client: HTML forms, which expect a 303
 * redirect, and scripts sending `Accept: application/json`, which expect JSON.
 */

export function wantsJson(event: H3Event): boolean {
  const accept = getRequestHeader(event, "accept") ?? "";
  const contentType = getRequestHeader(event, "content-type") ?? "";
  return accept.includes("application/json") || contentType.includes("application/json");
}

/** The body types a form endpoint reads, as a refusal names them. */
const ACCEPTED_BODIES =
  "application/x-www-form-urlencoded, multipart/form-data or application/json";

/**
 * The request's fields, from a form post (urlencoded or multipart, fields
 * only) or a JSON object, as strings. A field sent twice is dropped. No body
 * at all reads as no fields; a body of another type is refused with 415.
 */
export async function readFields(event: H3Event): Promise<Record<string, string>> {
  const contentType = getHeader(event, "content-type") ?? "";
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";

  if (mediaType === "") {
    if (!hasBody(event)) return {};
    throw createError({
      statusCode: 415,
      message: `Send the body with a Content-Type: ${ACCEPTED_BODIES}.`,
    });
  }
  if (mediaType === "application/json") return readJsonFields(event);
  if (mediaType === "application/x-www-form-urlencoded")
    return readUrlencodedFields(event);
  if (mediaType === "multipart/form-data") return readMultipartFields(event);
  throw createError({
    statusCode: 415,
    message: `Send the body as ${ACCEPTED_BODIES}.`,
  });
}

/** Whether the request carries a body, by the headers that announce one. */
function hasBody(event: H3Event): boolean {
  const length = getRequestHeader(event, "content-length");
  if (length !== undefined) return Number(length) > 0;
  return getRequestHeader(event, "transfer-encoding") !== undefined;
}

async function readBodyText(event: H3Event): Promise<string> {
  try {
    return (await readRawBody(event, "utf8")) ?? "";
  } catch {
    throw unreadableBody();
  }
}

function unreadableBody(): Error {
  return createError({ statusCode: 400, message: "The request body could not be read." });
}

async function readJsonFields(event: H3Event): Promise<Record<string, string>> {
  const text = await readBodyText(event);
  if (text.trim() === "") return {};

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw createError({
      statusCode: 400,
      message: "The request body is not valid JSON.",
    });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw createError({
      statusCode: 400,
      message: "The request body must be a JSON object.",
    });
  }

  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") fields[key] = value;
    else if (typeof value === "number" || typeof value === "boolean")
      fields[key] = String(value);
  }
  return fields;
}

async function readUrlencodedFields(event: H3Event): Promise<Record<string, string>> {
  const form = new URLSearchParams(await readBodyText(event));
  return collectFields(form.entries());
}

/** Fields only: a form that uploads a file is refused, since no endpoint takes one. */
async function readMultipartFields(event: H3Event): Promise<Record<string, string>> {
  let parts: Awaited<ReturnType<typeof readMultipartFormData>>;
  try {
    parts = await readMultipartFormData(event);
  } catch {
    throw unreadableBody();
  }
  if (parts === undefined) {
    // h3 reads nothing without a boundary or without a body.
    if (hasBody(event)) throw unreadableBody();
    return {};
  }

  const entries: [string, string][] = [];
  for (const part of parts) {
    if (part.filename !== undefined) {
      throw createError({ statusCode: 400, message: "Send the form without files." });
    }
    if (part.name) entries.push([part.name, part.data.toString("utf8")]);
  }
  return collectFields(entries);
}

/** A form's fields, without any sent twice: which one was meant is unknown. */
function collectFields(entries: Iterable<[string, string]>): Record<string, string> {
  const fields = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of entries) {
    if (fields.has(name)) repeated.add(name);
    fields.set(name, value);
  }
  for (const name of repeated) fields.delete(name);
  return Object.fromEntries(fields);
}

/**
 * Answers a failed form post with a 303 back to the page it came from, which
 * shows the message from a flash cookie (see flash.ts); a JSON client gets the
 * status and message instead.
 */
export async function failRequest(
  event: H3Event,
  statusCode: number,
  message: string,
  formPage: string,
): Promise<unknown> {
  // A 503 is an outage that passes (Stripe, a busy database): say when to retry.
  if (statusCode === 503) setResponseHeader(event, "retry-after", OUTAGE_RETRY_SECONDS);
  if (wantsJson(event)) throw createError({ statusCode, message });
  return redirectWithFlash(event, formPage, "error", message);
}

/** What a 503 asks a client to wait before trying again. */
export const OUTAGE_RETRY_SECONDS = 30;

/** Answers success: JSON data for scripts, a 303 to `location` for forms. */
export async function succeedRequest(
  event: H3Event,
  location: string,
  data: Record<string, unknown> = { ok: true },
): Promise<unknown> {
  if (wantsJson(event)) return { ...data, location };
  return sendRedirect(event, location, 303);
}

/** A `next` path from a form, accepted only when it stays on this site. */
export function safeNextPath(next: string | undefined, fallback: string): string {
  if (!next?.startsWith("/")) return fallback;

  // Browsers drop tabs and newlines from URLs and read a backslash as a slash,
  // so "/\tevil.example" or "/\\evil.example" would become "//evil.example".
  const offSite = next.startsWith("//") || next.includes("\\");
  const hasControl = [...next].some(
    (c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f,
  );
  return offSite || hasControl ? fallback : next;
}

/**
 * A form page's address with the visitor's `next` kept on it, so that a failed
 * sign-in still lands the reader where they were going once it succeeds.
 */
export function formPageWithNext(formPage: string, next: string | undefined): string {
  const safe = safeNextPath(next, "");
  if (safe === "") return formPage;
  return `${formPage}?${new URLSearchParams({ next: safe })}`;
}

/**
 * Answers 429 with Retry-After, in minutes for people and seconds for machines.
 * `orElse` names another way in, for a wait the reader did not cause.
 */
export async function failTooManyAttempts(
  event: H3Event,
  retryAfterSeconds: number,
  formPage: string,
  orElse?: string,
): Promise<unknown> {
  setResponseHeader(event, "retry-after", retryAfterSeconds);
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  const wait = minutes === 1 ? "a minute" : `${minutes} minutes`;
  const message = orElse
    ? `Too many attempts. Try again in ${wait}, or ${orElse}.`
    : `Too many attempts. Try again in ${wait}.`;
  return failRequest(event, 429, message, formPage);
}

type Checked = { ok: true } | { ok: false; message: string };

export type CheckedForm<R> =
  | { ok: true; fields: Record<string, string>; formPage: string; result: R }
  | { ok: false; answer: unknown };

/**
 * The opening of every form endpoint: read the fields, check them, and answer
 * a bad form (400, or a 303 back to `formPage` with the message) on the spot.
 * `formPage` keeps the visitor's `next`.
 */
export async function readCheckedForm<R extends Checked>(
  event: H3Event,
  formPage: string,
  check: (fields: Record<string, string>) => R,
): Promise<CheckedForm<Extract<R, { ok: true }>>> {
  const fields = await readFields(event);
  const page = formPageWithNext(formPage, fields.next);

  const result = check(fields);
  if (!result.ok)
    return { ok: false, answer: await failRequest(event, 400, result.message, page) };
  return { ok: true, fields, formPage: page, result: result as Extract<R, { ok: true }> };
}

/**
 * Success that the reader should read about: forms land on `location`, which
 * shows the message from a flash cookie; scripts get it as `message`.
 */
export async function succeedWithNotice(
  event: H3Event,
  location: string,
  message: string,
  data: Record<string, unknown> = { ok: true },
): Promise<unknown> {
  if (wantsJson(event)) return { ...data, message, location };
  return redirectWithFlash(event, location, "notice", message);
}

/** A signed-out request to a reader's endpoint: 401 for scripts, the sign-in page for forms. */
export async function failSignedOut(
  event: H3Event,
  message: string,
  next = "/account/",
): Promise<unknown> {
  if (wantsJson(event)) throw createError({ statusCode: 401, message });
  return sendRedirect(event, formPageWithNext("/login/", next), 303);
}

/** Answers that carry who is signed in, or a secret, must never be cached. */
export function markPrivate(event: H3Event): void {
  setResponseHeader(event, "cache-control", "private, no-store");
}
