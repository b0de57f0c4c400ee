import type { EmulatorContext } from "./context.ts";
import { emitEvent } from "./events.ts";
import {
  type ChargeOutcome,
  normalizeCardNumber,
  offSessionCharge,
  SUCCEEDING_CARD,
} from "./test-cards.ts";
import type { StoredInvoice } from "./types.ts";

/*
 * The card on file and what charging it tells the account. Renewals, the
 * first charge after a trial, subscriptions created through the API and the
 * retries of failed invoices charge it without the reader present. A customer
 * with no card set is charged as if 4242 4242 4242 4242 were on file.
 */

export function saveCard(ctx: EmulatorContext, customerId: string, number: string): void {
  ctx.store.savedCards.insert({ id: customerId, number: normalizeCardNumber(number) });
}

export function cardOnFile(ctx: EmulatorContext, customerId: string): string {
  return ctx.store.savedCards.get(customerId)?.number ?? SUCCEEDING_CARD;
}

/** Charges the customer's card on file with no reader present to authenticate. */
export function chargeCardOnFile(
  ctx: EmulatorContext,
  customerId: string,
): ChargeOutcome {
  return offSessionCharge(cardOnFile(ctx, customerId));
}

/**
 * Emits the events of one payment attempt on an invoice: `invoice.paid`, or
 * `invoice.payment_failed`, after `invoice.payment_action_required` when the
 * card asked for authentication nobody could give.
 */
export function emitChargeOutcome(
  ctx: EmulatorContext,
  invoice: StoredInvoice,
  outcome: ChargeOutcome,
): void {
  if (invoice.status === "paid") {
    emitEvent(ctx, "invoice.paid", invoice);
    return;
  }
  if (outcome === "authentication_required") {
    emitEvent(ctx, "invoice.payment_action_required", invoice);
  }
  emitEvent(ctx, "invoice.payment_failed", invoice);
}
