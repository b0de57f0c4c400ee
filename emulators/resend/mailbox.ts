import { acceptEmail, type ReceivedEmail, ResendApiError } from "./emails.ts";
import { type ActiveFault, describeFault, refusalOf } from "./faults.ts";

/*
 * The emails the emulator has accepted, in arrival order, plus what makes
 * sending realistic for an outbox: idempotency keys, injected faults
 * (faults.ts) and a record of every send attempt.
 *
 * An `Idempotency-Key` is remembered for 24 hours per route. The same key with
 * the same payload answers the first response and stores no second email; the
 * same key with another payload is refused with 409, as Resend does. A send
 * that is refused (invalid, or by a fault) remembers no key.
 */

const KEY_LIFETIME_MS = 24 * 3600 * 1000;

interface Remembered {
  payload: string;
  response: unknown;
  at: number;
}

/** One request to a send route, whatever came of it. */
export interface SendAttempt {
  /** ISO 8601, with milliseconds. */
  at: string;
  route: "emails" | "batch";
  idempotency_key: string | null;
  /** The HTTP status answered. */
  status: number;
  /** Resend's error code when refused. */
  error: string | null;
  /** Ids answered: a repeated key answers the first send's ids and stores nothing. */
  email_ids: string[];
  /** True when an earlier send with the same key answered for this one. */
  replayed: boolean;
  /** The injected fault that shaped this answer, if any. */
  fault: "error" | "rate_limit" | "slow" | "missing_id" | null;
}

export class Mailbox {
  private readonly received: ReceivedEmail[] = [];
  private readonly keys = new Map<string, Remembered>();
  private readonly attemptLog: SendAttempt[] = [];
  private active: ActiveFault | null = null;

  all(): ReceivedEmail[] {
    return structuredClone(this.received);
  }

  attempts(): SendAttempt[] {
    return structuredClone(this.attemptLog);
  }

  get(id: string): ReceivedEmail | undefined {
    return this.received.find((email) => email.id === id);
  }

  clear(): void {
    this.received.length = 0;
    this.attemptLog.length = 0;
    this.keys.clear();
    this.active = null;
  }

  /** Injects a fault into the next sends (`remaining` of them, or all while null). */
  setFault(active: ActiveFault | null): void {
    this.active = active;
  }

  fault(): unknown {
    return describeFault(this.active);
  }

  /** Starts the record of one request to a send route; `send` fills it in. */
  beginAttempt(route: SendAttempt["route"], key: string | undefined): SendAttempt {
    const attempt: SendAttempt = {
      at: new Date().toISOString(),
      route,
      idempotency_key: key ?? null,
      status: 200,
      error: null,
      email_ids: [],
      replayed: false,
      fault: null,
    };
    this.attemptLog.push(attempt);
    return attempt;
  }

  /** Accepts one email or a batch; `build` turns the payload into the emails and the response. */
  send(
    attempt: SendAttempt,
    payload: unknown,
    build: (payload: unknown) => { emails: ReceivedEmail[]; response: unknown },
  ): Promise<unknown> {
    return this.accept(attempt, payload, attempt.idempotency_key ?? undefined, build);
  }

  private async accept(
    attempt: SendAttempt,
    payload: unknown,
    key: string | undefined,
    build: (payload: unknown) => { emails: ReceivedEmail[]; response: unknown },
  ): Promise<unknown> {
    const fault = this.takeFault();
    attempt.fault = fault?.kind ?? null;
    const refusal = fault ? refusalOf(fault, Date.now()) : null;
    if (refusal) throw refusal;

    const remembered = key ? this.recall(attempt.route, key, payload) : undefined;
    const response =
      remembered?.response ?? this.store(attempt.route, payload, key, build);
    attempt.replayed = remembered !== undefined;
    attempt.email_ids = idsOf(response);

    if (fault?.kind === "slow") {
      await new Promise((done) => setTimeout(done, fault.delayMs));
    }
    if (fault?.kind === "missing_id") return withoutIds(response);
    return response;
  }

  private store(
    route: SendAttempt["route"],
    payload: unknown,
    key: string | undefined,
    build: (payload: unknown) => { emails: ReceivedEmail[]; response: unknown },
  ): unknown {
    const { emails, response } = build(payload);
    for (const email of emails) email.idempotency_key = key ?? null;
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

  private takeFault(): ActiveFault["fault"] | null {
    if (!this.active) return null;
    const { fault } = this.active;
    if (this.active.remaining !== null) {
      this.active.remaining -= 1;
      if (this.active.remaining <= 0) this.active = null;
    }
    return fault;
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

function idsOf(response: unknown): string[] {
  const body = response as { id?: string; data?: { id: string }[] };
  if (typeof body.id === "string") return [body.id];
  return (body.data ?? []).map((item) => item.id);
}

/** An answer with its ids left out: `{}`, or a batch's entries as `{}`. */
function withoutIds(response: unknown): unknown {
  const body = response as { id?: string; data?: unknown[] };
  if (typeof body.id === "string") return {};
  return { ...body, data: (body.data ?? []).map(() => ({})) };
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
