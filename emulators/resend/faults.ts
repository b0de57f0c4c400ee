import { ResendApiError } from "./emails.ts";

/*
 * Faults the emulator can be told to inject into sends (POST /emails and
 * POST /emails/batch), so that tests can watch an outbox ride out what Resend
 * does on a bad day: errors, rate limits, slow answers. One fault is active at
 * a time, for a number of sends or until it is turned off.
 *
 * An error or a rate limit refuses the send before anything is stored or any
 * idempotency key remembered, as a failed request to Resend does. A slow fault
 * accepts the email at once and holds the answer back: a client that gives up
 * waiting has in fact sent it, which is what an idempotency key is for. A
 * missing-id fault also accepts the email, and answers 200 with the id left
 * out, as a proxy that mangles answers would: a client must not take a 200
 * alone for a sent email, and its retry with the key gets the id back.
 */

export type Fault =
  | { kind: "error"; status: number; name: string; message: string }
  | { kind: "rate_limit"; retryAfterSeconds: number }
  | { kind: "slow"; delayMs: number }
  | { kind: "missing_id" };

export interface ActiveFault {
  fault: Fault;
  /** Sends still to affect; null until turned off. */
  remaining: number | null;
}

/** Resend's error code for a status, as its API reference lists them. */
const ERROR_NAMES: Record<number, string> = {
  400: "validation_error",
  401: "missing_api_key",
  403: "invalid_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "concurrent_idempotent_requests",
  422: "validation_error",
  429: "rate_limit_exceeded",
  451: "security_error",
  500: "internal_server_error",
};

export function errorFault(status: number, name?: string, message?: string): Fault {
  if (status === 429) return { kind: "rate_limit", retryAfterSeconds: 1 };
  return {
    kind: "error",
    status,
    name: name ?? ERROR_NAMES[status] ?? "application_error",
    message:
      message ??
      (status >= 500
        ? "An unexpected error occurred. Please try again later."
        : "The request was refused."),
  };
}

/** The refusal a fault answers with, or null for a fault that refuses nothing. */
export function refusalOf(fault: Fault, nowMs: number): ResendApiError | null {
  switch (fault.kind) {
    case "error":
      return new ResendApiError(fault.status, fault.name, fault.message);
    case "rate_limit":
      return new ResendApiError(
        429,
        "rate_limit_exceeded",
        "Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit.",
        {
          "retry-after": String(fault.retryAfterSeconds),
          "ratelimit-limit": "2",
          "ratelimit-remaining": "0",
          "ratelimit-reset": String(Math.ceil(nowMs / 1000) + fault.retryAfterSeconds),
        },
      );
    case "slow":
    case "missing_id":
      return null;
  }
}

/** What the control route reports about a fault. */
export function describeFault(active: ActiveFault | null): unknown {
  if (!active) return null;
  const { fault, remaining } = active;
  const base = { kind: fault.kind, remaining };
  switch (fault.kind) {
    case "error":
      return { ...base, status: fault.status, name: fault.name, message: fault.message };
    case "rate_limit":
      return { ...base, status: 429, retry_after: fault.retryAfterSeconds };
    case "slow":
      return { ...base, delay_ms: fault.delayMs };
    case "missing_id":
      return base;
  }
}

/**
 * Reads a control body: `{ "kind": "error", "status"?, "name"?, "message"? }`,
 * `{ "kind": "rate_limit", "retry_after"? }`, `{ "kind": "slow", "delay_ms" }` or
 * `{ "kind": "missing_id" }`, each with an optional `"count"`. Throws a message for a 400 otherwise.
 */
export function readFault(body: Record<string, unknown>): ActiveFault {
  const remaining = readCount(body.count);
  switch (body.kind) {
    case "error": {
      const status = readInteger(body.status ?? 500, "status", 400, 599);
      const name = typeof body.name === "string" ? body.name : undefined;
      const message = typeof body.message === "string" ? body.message : undefined;
      return { fault: errorFault(status, name, message), remaining };
    }
    case "rate_limit": {
      const seconds = readInteger(body.retry_after ?? 1, "retry_after", 0, 86_400);
      return { fault: { kind: "rate_limit", retryAfterSeconds: seconds }, remaining };
    }
    case "slow": {
      const delayMs = readInteger(body.delay_ms, "delay_ms", 1, 600_000);
      return { fault: { kind: "slow", delayMs }, remaining };
    }
    case "missing_id":
      return { fault: { kind: "missing_id" }, remaining };
    default:
      throw new Error('kind must be "error", "rate_limit", "slow" or "missing_id"');
  }
}

function readCount(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return readInteger(value, "count", 1, 1_000_000);
}

function readInteger(value: unknown, field: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new Error(`${field} must be a whole number from ${min} to ${max}`);
  }
  return number;
}
