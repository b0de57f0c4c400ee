import { randomInt } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomToken(length: number): string {
  let token = "";
  for (let i = 0; i < length; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token;
}

/**
 * An identifier shaped like Stripe's: a type prefix and random letters, e.g.
 * `newId("cus")` → "cus_Q1xY…". Code that branches on prefixes keeps working.
 */
export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomToken(length)}`;
}

/** A webhook signing secret, shaped like the ones the Stripe dashboard shows. */
export function newWebhookSecret(): string {
  return `whsec_${randomToken(32)}`;
}

const CODE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * An identifier without a type prefix, as Stripe makes for coupons ("Z4OV52SU")
 * and promotion codes a customer types in: capital letters and digits.
 */
export function newCode(length = 8): string {
  let code = "";
  for (let i = 0; i < length; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}
