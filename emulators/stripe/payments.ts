import type { EmulatorContext } from "./context.ts";
import { emitEvent } from "./events.ts";
import { newId } from "./ids.ts";
import {
  type ChargeOutcome,
  chargeWithReaderPresent,
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

/**
 * The reader replaces their card in the billing portal: it becomes the
 * customer's default payment method for invoices, announced by
 * `customer.updated`. Payment methods are not objects of their own here, so
 * the new ID names the card but cannot be retrieved.
 */
export function replaceDefaultCard(
  ctx: EmulatorContext,
  customerId: string,
  number: string,
): void {
  saveCard(ctx, customerId, number);
  const customer = ctx.store.customers.get(customerId);
  if (!customer) return;

  const previous = customer.invoice_settings.default_payment_method;
  customer.invoice_settings.default_payment_method = newId("pm");
  emitEvent(ctx, "customer.updated", customer, {
    invoice_settings: { default_payment_method: previous },
  });
}

/** Charges the customer's card on file while the reader is there to authenticate. */
export function chargeCardOnFileWithReader(
  ctx: EmulatorContext,
  customerId: string,
): ChargeOutcome {
  return chargeWithReaderPresent(cardOnFile(ctx, customerId));
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
