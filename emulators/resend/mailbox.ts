import { acceptEmail, type ReceivedEmail, ResendApiError } from "./emails.ts";

/*
 * The emails the emulator has accepted, in arrival order, plus what makes
 * sending realistic for an outbox: idempotency keys and simulated outages.
 *
 * An `Idempotency-Key` is remembered for 24 hours per route. The same key with
 * the same payload answers the first response and stores no second email; the
 * same key with another payload is refused with 409, as Resend does.
 */

const KEY_LIFETIME_MS = 24 * 3600 * 1000;

interface Remembered {
  payload: string;
  response: unknown;
  at: number;
}

export interface Outage {
  remaining: number;
  statusCode: number;
  name: string;
}

export class Mailbox {
  private readonly received: ReceivedEmail[] = [];
  private readonly keys = new Map<string, Remembered>();
  private outage: Outage | null = null;

  all(): ReceivedEmail[] {
    return structuredClone(this.received);
  }

  get(id: string): ReceivedEmail | undefined {
    return this.received.find((email) => email.id === id);
  }

  clear(): void {
    this.received.length = 0;
    this.keys.clear();
    this.outage = null;
  }

  /** The next `count` sends fail with this status, as during an outage. */
  failNext(count: number, statusCode: number): void {
    const name = statusCode === 429 ? "rate_limit_exceeded" : "application_error";
    this.outage = count > 0 ? { remaining: count, statusCode, name } : null;
  }

  /** Accepts one email or a batch; `build` turns the payload into the response. */
  send(
    route: string,
    payload: unknown,
    key: string | undefined,
    build: (payload: unknown) => { emails: ReceivedEmail[]; response: unknown },
  ): unknown {
    this.takeOutage();
    const remembered = key ? this.recall(route, key, payload) : undefined;
    if (remembered) return remembered.response;

    const { emails, response } = build(payload);
    this.received.push(...emails);
    if (key) {
      this.keys.set(`${route} ${key}`, {
        payload: JSON.stringify(payload),
        response,
        at: Date.now(),
      });
    }
    return response;
  }

  private takeOutage(): void {
    if (!this.outage) return;
    const { statusCode, name } = this.outage;
    this.outage.remaining -= 1;
    if (this.outage.remaining <= 0) this.outage = null;
    throw new ResendApiError(statusCode, name, "Simulated outage: try again later.");
  }

  private recall(route: string, key: string, payload: unknown): Remembered | undefined {
    if (key.length < 1 || key.length > 256) {
      throw new ResendApiError(
        400,
        "invalid_idempotency_key",
        "The key must be between 1-256 chars.",
      );
    }
    const entry = this.keys.get(`${route} ${key}`);
    if (!entry || Date.now() - entry.at > KEY_LIFETIME_MS) return undefined;
    if (entry.payload !== JSON.stringify(payload)) {
      throw new ResendApiError(
        409,
        "invalid_idempotent_request",
        "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
      );
    }
    return entry;
  }
}

/** POST /emails: one email, answered with its ID. */
export function buildSingle(payload: unknown): {
  emails: ReceivedEmail[];
  response: unknown;
} {
  const email = acceptEmail(payload);
  return { emails: [email], response: { id: email.id } };
}

/**
 * POST /emails/batch: up to 100 emails. In "strict" mode (the SDK's default)
 * one invalid email refuses the whole batch; in "permissive" mode the valid
 * ones are sent and the others listed under `errors`.
 */
export function buildBatch(
  payload: unknown,
  mode: "strict" | "permissive",
): { emails: ReceivedEmail[]; response: unknown } {
  if (!Array.isArray(payload) || payload.length === 0 || payload.length > 100) {
    throw new ResendApiError(
      422,
      "validation_error",
      "A batch is a list of 1 to 100 emails.",
    );
  }

  const emails: ReceivedEmail[] = [];
  const errors: { index: number; message: string }[] = [];
  payload.forEach((item, index) => {
    try {
      if (item?.attachments || item?.scheduled_at) {
        throw new ResendApiError(
          422,
          "validation_error",
          "Batch emails support neither `attachments` nor `scheduled_at`.",
        );
      }
      emails.push(acceptEmail(item));
    } catch (error) {
      if (!(error instanceof ResendApiError) || mode === "strict") {
        throw prefixed(error, index);
      }
      errors.push({ index, message: error.message });
    }
  });

  const data = emails.map((email) => ({ id: email.id }));
  return { emails, response: mode === "permissive" ? { data, errors } : { data } };
}

function prefixed(error: unknown, index: number): unknown {
  if (!(error instanceof ResendApiError)) return error;
  return new ResendApiError(
    error.statusCode,
    error.name,
    `emails[${index}]: ${error.message}`,
  );
}
