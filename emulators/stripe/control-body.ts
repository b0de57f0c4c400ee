import { getRequestHeader, type H3Event, readRawBody } from "h3";
import qs from "qs";
import type { z } from "zod";
import { StripeApiError } from "./errors.ts";

/*
 * Bodies of the /_emulator/ control routes: JSON, or form-encoded (where
 * lists come as `event_ids[]=a&event_ids[]=b` and every value is a string).
 * The readers below accept both spellings and answer 400 for anything else.
 */

export type ControlBody = Record<string, unknown>;

function parseJson(raw: string): ControlBody {
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as ControlBody;
    }
  } catch {
    // Answered below like any other body that is not an object.
  }
  throw new StripeApiError(400, "The body must be a JSON object or a form.");
}

export async function readControlBody(event: H3Event): Promise<ControlBody> {
  const raw = (await readRawBody(event, "utf8")) ?? "";
  if (!raw.trim()) return {};
  const type = getRequestHeader(event, "content-type") ?? "";
  if (type.includes("json") || raw.trimStart().startsWith("{")) return parseJson(raw);
  return qs.parse(raw) as ControlBody;
}

function badField(name: string, expected: string): StripeApiError {
  return new StripeApiError(400, `${name} must be ${expected}.`, { param: name });
}

export function readFlag(body: ControlBody, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw badField(name, "true or false");
}

/** A whole number between `min` and `max`. */
export function readWholeNumber(
  body: ControlBody,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  const number = typeof value === "string" && value.trim() ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) {
    throw badField(name, "a whole number");
  }
  if (number < range.min || number > range.max) {
    throw badField(name, `between ${range.min} and ${range.max}`);
  }
  return number;
}

export function readText(body: ControlBody, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || typeof value === "string") return value;
  throw badField(name, "a string");
}

export function readChoice<const T extends string>(
  body: ControlBody,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = readText(body, name);
  if (value === undefined || (choices as readonly string[]).includes(value)) {
    return value as T | undefined;
  }
  throw badField(name, `one of ${choices.join(", ")}`);
}

/** A list of strings; a lone string counts as a list of one. */
export function readTextList(body: ControlBody, name: string): string[] | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  const list = typeof value === "string" ? [value] : value;
  if (Array.isArray(list) && list.every((item) => typeof item === "string")) {
    return list;
  }
  throw badField(name, "a list of strings");
}

/**
 * A body checked against a zod schema; the first problem answers 400 naming
 * the field, e.g. "count must be between 1 and 10000." Schemas of form-encoded
 * bodies should accept numbers as strings too (`controlNumber`).
 */
export function parseControlBody<S extends z.ZodType>(
  body: ControlBody,
  schema: S,
): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  const name = issue?.path.map(String).join(".") || "body";
  throw new StripeApiError(400, `${name}: ${issue?.message ?? "invalid"}.`, {
    param: name,
  });
}

/** A number that may arrive as a form field's string. */
export function controlNumber(value: unknown): unknown {
  return typeof value === "string" && value.trim() ? Number(value) : value;
}
