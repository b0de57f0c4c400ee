/*
 * The card numbers Stripe documents for test mode, and the checks its payment
 * form makes before it charges. Any other valid number is refused, as real card
 * numbers are in test mode.
 */

export const SUCCEEDING_CARD = "4242424242424242";

const DECLINES: Record<string, string> = {
  "4000000000000002": "Your card was declined.",
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

/** The message the payment form shows for this card, or null when it is charged. */
export function cardProblem(card: CardInput, now: Date): string | null {
  const digits = card.number.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) {
    return "Your card number is incorrect.";
  }
  const expiry = expiryProblem(card.expiry, now);
  if (expiry) return expiry;
  if (!/^\d{3,4}$/.test(card.cvc.trim())) {
    return "Your card's security code is incomplete.";
  }

  if (digits === SUCCEEDING_CARD) return null;
  return (
    DECLINES[digits] ??
    "Your card was declined. In test mode, use a test card such as 4242 4242 4242 4242."
  );
}
