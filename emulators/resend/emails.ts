import { randomUUID } from "node:crypto";

/*
 * What Resend's POST /emails accepts, and the record the emulator keeps of each
 * accepted email. Validation follows Resend's documented rules closely enough
 * that a payload the emulator accepts is one Resend would accept too.
 */

export interface ReceivedEmail {
  object: "email";
  id: string;
  from: string;
  to: string[];
  cc: string[] | null;
  bcc: string[] | null;
  reply_to: string[] | null;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string> | null;
  tags: { name: string; value: string }[];
  attachments: { filename: string | null; content_type: string | null }[];
  /** ISO 8601. */
  created_at: string;
  scheduled_at: string | null;
  last_event: "delivered" | "scheduled";
  message_id: string;
  /** The Idempotency-Key it was sent with; the emulator's own record, not Resend's API. */
  idempotency_key: string | null;
}

/** Resend's error body: `{ statusCode, name, message }`, with any headers it sets. */
export class ResendApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** Resend's error code, e.g. "validation_error". */
    override readonly name: string,
    message: string,
    /** Response headers, e.g. `Retry-After` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { statusCode: number; name: string; message: string } {
    return { statusCode: this.statusCode, name: this.name, message: this.message };
  }
}

function validation(message: string): ResendApiError {
  return new ResendApiError(422, "validation_error", message);
}

function missing(field: string): ResendApiError {
  return new ResendApiError(422, "missing_required_field", `Missing \`${field}\` field.`);
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const NAMED_ADDRESS = /^[^<>]*<([^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)>$/;

function isAddress(value: string): boolean {
  return ADDRESS.test(value.trim()) || NAMED_ADDRESS.test(value.trim());
}

function addressList(field: string, value: unknown, max: number): string[] | null {
  if (value === undefined || value === null) return null;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
    throw validation(
      `Invalid \`${field}\` field. Give an email address or a list of them.`,
    );
  }
  if (list.length > max) {
    throw validation(`Too many recipients in \`${field}\`: at most ${max}.`);
  }
  const bad = list.find((address) => !isAddress(address));
  if (bad !== undefined) {
    throw validation(
      `Invalid \`${field}\` field. The email address needs to follow the ` +
        "`email@example.com` or `Name <email@example.com>` format.",
    );
  }
  return list;
}

function optionalString(payload: Record<string, unknown>, field: string): string | null {
  const value = payload[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    throw validation(`Invalid \`${field}\` field: expected a string.`);
  }
  return value;
}

const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;

function readTags(value: unknown): ReceivedEmail["tags"] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw validation("Invalid `tags` field: expected a list.");
  return value.map((tag: { name?: unknown; value?: unknown }) => {
    const name = String(tag?.name ?? "");
    const tagValue = String(tag?.value ?? "");
    if (!TAG_PART.test(name) || !TAG_PART.test(tagValue)) {
      throw validation(
        "Tags may only contain ASCII letters, numbers, underscores or dashes.",
      );
    }
    return { name, value: tagValue };
  });
}

function readAttachments(value: unknown): ReceivedEmail["attachments"] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw validation("Invalid `attachments` field: expected a list.");
  }
  return value.map(
    (item: {
      filename?: unknown;
      content_type?: unknown;
      content?: unknown;
      path?: unknown;
    }) => {
      if (item?.content === undefined && item?.path === undefined) {
        throw new ResendApiError(
          422,
          "invalid_attachment",
          "Attachment must have either a `content` or `path`.",
        );
      }
      return {
        filename: typeof item.filename === "string" ? item.filename : null,
        content_type: typeof item.content_type === "string" ? item.content_type : null,
      };
    },
  );
}

function requireFields(payload: Record<string, unknown>): void {
  for (const field of ["from", "to", "subject"]) {
    if (
      payload[field] === undefined ||
      payload[field] === null ||
      payload[field] === ""
    ) {
      throw missing(field);
    }
  }
  if (typeof payload.from !== "string" || !isAddress(payload.from)) {
    throw validation(
      "Invalid `from` field. The email address needs to follow the " +
        "`email@example.com` or `Name <email@example.com>` format.",
    );
  }
  if (typeof payload.subject !== "string") {
    throw validation("Invalid `subject` field: expected a string.");
  }
  if (!payload.html && !payload.text && !payload.template) {
    throw new ResendApiError(
      422,
      "missing_required_field",
      "Missing `html` or `text` field.",
    );
  }
}

/** Validates one email payload and builds the record kept for it. */
export function acceptEmail(payload: unknown): ReceivedEmail {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw validation("The request body must be a JSON object.");
  }
  const fields = payload as Record<string, unknown>;
  requireFields(fields);

  const id = randomUUID();
  const scheduledAt = optionalString(fields, "scheduled_at");
  return {
    object: "email",
    id,
    from: String(fields.from),
    to: addressList("to", fields.to, 50) ?? [],
    cc: addressList("cc", fields.cc, 50),
    bcc: addressList("bcc", fields.bcc, 50),
    reply_to: addressList("reply_to", fields.reply_to, 50),
    subject: String(fields.subject),
    html: optionalString(fields, "html"),
    text: optionalString(fields, "text"),
    headers: (fields.headers as Record<string, string> | undefined) ?? null,
    tags: readTags(fields.tags),
    attachments: readAttachments(fields.attachments),
    created_at: new Date().toISOString(),
    scheduled_at: scheduledAt,
    last_event: scheduledAt ? "scheduled" : "delivered",
    message_id: `<${id}@resend.emulator>`,
    idempotency_key: null,
  };
}

/** The shape of GET /emails/:id, as the SDK's `GetEmailResponseSuccess` declares it. */
export function presentEmail(email: ReceivedEmail): Record<string, unknown> {
  const { headers: _, attachments: __, idempotency_key: ___, ...shown } = email;
  return shown;
}
