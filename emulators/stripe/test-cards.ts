/*
 * The card numbers Stripe documents for test mode, and the checks its payment
 * form makes before it charges. Any other valid number is refused, as real card
 * numbers are in test mode.
 *
 * A card is charged either with the reader present (the Checkout page) or
 * without (renewals, the first charge after a trial, subscriptions created
 * through the API, retries): see `offSessionCharge`.
 */

export const SUCCEEDING_CARD = "4242424242424242";

/** Attaches to a customer, but every charge of it is declined. */
export const CHARGE_FAILING_CARD = "4000000000000341";

/**
 * Asks for authentication (3-D Secure) on every payment. The reader passes it
 * on the Checkout page; a charge without the reader present cannot.
 */
export const AUTHENTICATION_CARD = "4000002760003184";

/** Cards that can be saved on a customer for later charges. */
const ATTACHABLE = new Set([SUCCEEDING_CARD, CHARGE_FAILING_CARD, AUTHENTICATION_CARD]);

/** How a charge of a saved card ends when the reader is not there to act. */
export type ChargeOutcome = "succeeded" | "declined" | "authentication_required";

const DECLINES: Record<string, string> = {
  "4000000000000002": "Your card was declined.",
  [CHARGE_FAILING_CARD]: "Your card was declined.",
  "4000000000009995": "Your card has insufficient funds.",
  "4000000000000069": "Your card has expired.",
  "4000000000000127": "Your card's security code is incorrect.",
};

export interface CardInput {
  number: string;
  /** "MM / YY", "MM/YY" or "MMYY". */
  expiry: string;
  cvc: string;
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

function expiryProblem(expiry: string, now: Date): string | null {
  const match = /^(\d{1,2})\s*\/?\s*(\d{2})$/.exec(expiry.trim());
  const month = Number(match?.[1]);
  if (!match || month < 1 || month > 12) {
    return "Your card's expiration date is incomplete.";
  }

  const year = 2000 + Number(match[2]);
  const thisYear = now.getUTCFullYear();
  if (year < thisYear || (year === thisYear && month < now.getUTCMonth() + 1)) {
    return "Your card's expiration date is in the past.";
  }
  return null;
}

/** The number as stored: digits only. */
export function normalizeCardNumber(number: string): string {
  return number.replace(/[\s-]/g, "");
}

function numberProblem(digits: string): string | null {
  if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) {
    return "Your card number is incorrect.";
  }
  return null;
}

function declineMessage(digits: string): string {
  return (
    DECLINES[digits] ??
    "Your card was declined. In test mode, use a test card such as 4242 4242 4242 4242."
  );
}

/** What the card fields would refuse before anything is charged or saved. */
function entryProblem(card: CardInput, now: Date): string | null {
  const problem = numberProblem(normalizeCardNumber(card.number));
  if (problem) return problem;
  const expiry = expiryProblem(card.expiry, now);
  if (expiry) return expiry;
  if (!/^\d{3,4}$/.test(card.cvc.trim())) {
    return "Your card's security code is incomplete.";
  }
  return null;
}

/** The message the payment form shows for this card, or null when it is charged. */
export function cardProblem(card: CardInput, now: Date): string | null {
  const problem = entryProblem(card, now);
  if (problem) return problem;

  const digits = normalizeCardNumber(card.number);
  if (digits === SUCCEEDING_CARD || digits === AUTHENTICATION_CARD) return null;
  return declineMessage(digits);
}

/**
 * The message a form that saves a card for later shows, or null when it is
 * saved. Nothing is charged, so 4000 0000 0000 0341 is saved.
 */
export function savedCardProblem(card: CardInput, now: Date): string | null {
  return entryProblem(card, now) ?? attachProblem(card.number);
}

/** Why a card cannot be saved on a customer, or null when it can. */
export function attachProblem(number: string): string | null {
  const digits = normalizeCardNumber(number);
  if (ATTACHABLE.has(digits)) return null;
  return numberProblem(digits) ?? declineMessage(digits);
}

/** A saved card charged without the reader present. */
export function offSessionCharge(number: string): ChargeOutcome {
  const digits = normalizeCardNumber(number);
  if (digits === SUCCEEDING_CARD) return "succeeded";
  if (digits === AUTHENTICATION_CARD) return "authentication_required";
  return "declined";
}

/**
 * A saved card charged while the reader is on a hosted page: they pass the
 * authentication 4000 0027 6000 3184 asks for.
 */
export function chargeWithReaderPresent(number: string): ChargeOutcome {
  const outcome = offSessionCharge(number);
  return outcome === "authentication_required" ? "succeeded" : outcome;
}

/** What the reader is told when a charge of this card is declined. */
export function chargeDeclineMessage(number: string): string {
  return declineMessage(normalizeCardNumber(number));
}

/** "4242" for 4242 4242 4242 4242. */
export function lastFour(number: string): string {
  return normalizeCardNumber(number).slice(-4);
}
