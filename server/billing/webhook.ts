import Stripe from "stripe";
import { type Db, useDb } from "../db/database.ts";
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
  | { kind: "applied"; event: EventSummary; detail: string };

export type WebhookTrigger =
  | { kind: "pricing" }
  | { kind: "customer"; customerId: string }
  | { kind: "none" };

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

/** `STRIPE_WEBHOOK_SECRET` lists several secrets, comma-separated, while one is rotated. */
export function parseWebhookSecrets(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
}

export function verifyWebhook(
  rawBody: Buffer | undefined,
  signature: string | undefined,
  secrets: readonly string[],
  webhooks: Stripe["webhooks"] = Stripe.webhooks,
): Verification {
  if (!rawBody || rawBody.length === 0) return { kind: "refused", reason: "empty body" };
  if (!signature) return { kind: "refused", reason: "no Stripe-Signature header" };

  for (const secret of secrets) {
    let event: Stripe.Event;
    try {
      event = webhooks.constructEvent(rawBody, signature, secret);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      return { kind: "refused", reason: "signed payload is not JSON" };
    }
    return isEvent(event)
      ? { kind: "verified", event }
      : { kind: "refused", reason: "signed payload is not a Stripe event" };
  }
  return { kind: "refused", reason: "signature does not verify" };
}

/** What an event asks of us: a pricing refresh, a customer sync, or nothing. */
export function triggerOf(event: Stripe.Event): WebhookTrigger {
  const { type } = event;
  const isCatalog = type.startsWith("product.") || type.startsWith("price.");
  if (isCatalog) return { kind: "pricing" };

  const namesCustomer =
    type.startsWith("checkout.session.") ||
    type.startsWith("customer.") ||
    type.startsWith("invoice.");
  // A deleted customer cannot be listed; its subscriptions' own events say they ended.
  if (!namesCustomer || type === "customer.deleted") return { kind: "none" };

  const customerId = customerIdOf(event.data.object);
  return customerId ? { kind: "customer", customerId } : { kind: "none" };
}

/** The customer id an event's object carries: its own id for a customer. */
export function customerIdOf(object: unknown): string | null {
  if (typeof object !== "object" || object === null) return null;
  const fields = object as { object?: unknown; id?: unknown; customer?: unknown };

  if (fields.object === "customer") {
    return typeof fields.id === "string" ? fields.id : null;
  }
  if (typeof fields.customer === "string") return fields.customer;
  const nested = fields.customer as { id?: unknown } | null | undefined;
  return typeof nested?.id === "string" ? nested.id : null;
}

async function applyEvent(db: Db, event: Stripe.Event): Promise<WebhookOutcome> {
  const summary = { id: event.id, type: event.type };
  const trigger = triggerOf(event);

  if (trigger.kind === "customer") {
    return syncCustomerWith(trigger.customerId, db, (snapshot) => {
      if (!recordEvent(db, summary)) return { kind: "duplicate", event: summary };
      const result = applyCustomerSnapshot(db, snapshot);
      return { kind: "applied", event: summary, detail: describeSync(result) };
    });
  }

  if (trigger.kind === "pricing") await refreshPricing();
  const recorded = db.transaction(() => recordEvent(db, summary))();
  if (!recorded) return { kind: "duplicate", event: summary };
  const detail = trigger.kind === "pricing" ? "pricing refreshed" : "recorded only";
  return { kind: "applied", event: summary, detail };
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

function isEvent(event: Stripe.Event): boolean {
  const { id, type, data } = event as Partial<Stripe.Event>;
  return typeof id === "string" && typeof type === "string" && typeof data === "object";
}
