import Stripe from "stripe";
import { type Db, useDb } from "../db/database.ts";
import { triggerOf } from "./events.ts";
import { refreshPricing } from "./pricing.ts";
import { applyCustomerSnapshot, type SyncResult, syncCustomerWith } from "./sync.ts";

/**
 * Stripe's webhook. An event is verified against the raw body, then used only
 * as a trigger: the customer it names is fetched fresh from Stripe and stored,
 * and the event id is recorded in the same transaction. A redelivered event
 * finds its id recorded and changes nothing; an event that cannot be applied
 * records nothing, so Stripe's retry applies it later.
 */

export interface EventSummary {
  id: string;
  type: string;
}

export type WebhookOutcome =
  | { kind: "unconfigured" }
  | { kind: "refused"; reason: string }
  | { kind: "duplicate"; event: EventSummary }
  /** A type Tierwall does not listen to: answered 200, nothing recorded. */
  | { kind: "ignored"; event: EventSummary }
  | { kind: "applied"; event: EventSummary; detail: string };

type Verification =
  | { kind: "verified"; event: Stripe.Event }
  | { kind: "refused"; reason: string };

export async function receiveWebhook(
  rawBody: Buffer | undefined,
  signature: string | undefined,
  db: Db = useDb(),
): Promise<WebhookOutcome> {
  const secrets = parseWebhookSecrets(process.env.STRIPE_WEBHOOK_SECRET);
  if (secrets.length === 0) return { kind: "unconfigured" };

  const verified = verifyWebhook(rawBody, signature, secrets);
  if (verified.kind === "refused") return verified;

  const event = { id: verified.event.id, type: verified.event.type };
  if (isRecorded(db, event.id)) return { kind: "duplicate", event };
  return applyEvent(db, verified.event);
}

/**
 * `STRIPE_WEBHOOK_SECRET` lists several secrets, comma-separated, while one is
 * rotated. Each is a signing secret as Stripe shows it, starting `whsec_`; any
 * other value (an API key pasted in the wrong place) is refused, by position,
 * so the secret itself never reaches the log.
 */
export function parseWebhookSecrets(value: string | undefined): string[] {
  const secrets = (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  const wrong = secrets.findIndex((secret) => !secret.startsWith("whsec_"));
  if (wrong >= 0) {
    throw new Error(
      `STRIPE_WEBHOOK_SECRET has an entry that is not a webhook signing secret ` +
        `(entry ${wrong + 1} of ${secrets.length} does not start with whsec_): ` +
        "copy it from the endpoint in Stripe, or from npm run stripe:setup",
    );
  }
  return secrets;
}

/** How far a signature's timestamp may be from our clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function verifyWebhook(
  rawBody: Buffer | undefined,
  signature: string | undefined,
  secrets: readonly string[],
  nowMs: number = Date.now(),
): Verification {
  if (!rawBody || rawBody.length === 0) return { kind: "refused", reason: "empty body" };
  if (!signature) return { kind: "refused", reason: "no Stripe-Signature header" };

  for (const secret of secrets) {
    let event: Stripe.Event;
    try {
      // Tolerance 0: the SDK checks only the signature; the clock check below
      // also refuses timestamps from the future, which the SDK lets through.
      event = Stripe.webhooks.constructEvent(rawBody, signature, secret, 0);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      return { kind: "refused", reason: "signed payload is not JSON" };
    }
    const skew = Math.abs(nowMs / 1000 - signedAt(signature));
    if (!(skew <= SIGNATURE_TOLERANCE_SECONDS)) {
      return {
        kind: "refused",
        reason: "signature timestamp is more than 5 minutes off",
      };
    }
    return isEvent(event)
      ? { kind: "verified", event }
      : { kind: "refused", reason: "signed payload is not a Stripe event" };
  }
  return { kind: "refused", reason: "signature does not verify" };
}

/**
 * The `t=` of a `Stripe-Signature` header, read as the SDK reads it when it
 * checks the signature (the last `t` wins), so the checked and the signed
 * timestamp are the same.
 */
export function signedAt(header: string): number {
  let timestamp = Number.NaN;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key === "t") timestamp = Number.parseInt(value ?? "", 10);
  }
  return timestamp;
}

async function applyEvent(db: Db, event: Stripe.Event): Promise<WebhookOutcome> {
  const summary = { id: event.id, type: event.type };
  const trigger = triggerOf(event);

  switch (trigger.kind) {
    case "ignored":
      return { kind: "ignored", event: summary };
    case "customer":
      return syncCustomerWith(trigger.customerId, db, (snapshot) => {
        if (!recordEvent(db, summary)) return { kind: "duplicate", event: summary };
        const result = applyCustomerSnapshot(db, snapshot);
        return { kind: "applied", event: summary, detail: describeSync(result) };
      });
    case "pricing":
      await refreshPricing();
      return recordOnly(db, summary, "pricing refreshed");
    case "no-customer":
      return recordOnly(db, summary, "names no customer");
  }
}

function recordOnly(db: Db, event: EventSummary, detail: string): WebhookOutcome {
  const recorded = db.transaction(() => recordEvent(db, event)).immediate();
  return recorded ? { kind: "applied", event, detail } : { kind: "duplicate", event };
}

function isRecorded(db: Db, eventId: string): boolean {
  return db.prepare("SELECT 1 FROM stripe_event WHERE id = ?").get(eventId) !== undefined;
}

/** False when another delivery of the same event got there first. */
function recordEvent(db: Db, event: EventSummary): boolean {
  const appliedAt = Math.floor(Date.now() / 1000);
  return (
    db
      .prepare(
        "INSERT OR IGNORE INTO stripe_event (id, type, applied_at) VALUES (?, ?, ?)",
      )
      .run(event.id, event.type, appliedAt).changes === 1
  );
}

function describeSync(result: SyncResult): string {
  if (result.kind === "unknown-customer") {
    return `customer ${result.customerId} belongs to no reader`;
  }

  const { customerId, userId, stored, removed } = result;
  const parts = [`${stored} subscription${stored === 1 ? "" : "s"} stored`];
  if (removed > 0) parts.push(`${removed} removed`);
  for (const change of result.changes) {
    const from = change.from ?? "new";
    parts.push(`${change.subscriptionId} ${change.tier} ${from} → ${change.to}`);
  }
  return `customer ${customerId} of user ${userId}: ${parts.join(", ")}`;
}

function isEvent(event: unknown): event is Stripe.Event {
  if (typeof event !== "object" || event === null) return false;
  const { id, type, data } = event as Partial<Stripe.Event>;
  const object = (data as { object?: unknown } | null | undefined)?.object;
  return (
    typeof id === "string" &&
    typeof type === "string" &&
    typeof object === "object" &&
    object !== null
  );
}
