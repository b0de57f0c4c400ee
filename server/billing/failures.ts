import { type H3Event, isError } from "h3";
import Stripe from "stripe";
import { failRequest } from "../http/respond.ts";
import { logError, logWarn } from "../log.ts";

/**
 * A Stripe call that failed while serving a reader. The whole error goes to the
 * log; the reader gets a short message and, when Stripe could not be reached, a
 * 503 that tells them to try again.
 */
export async function answerBillingFailure(
  event: H3Event,
  error: unknown,
  action: string,
  formPage: string,
): Promise<unknown> {
  if (isError(error)) throw error;

  if (isStripeUnreachable(error)) {
    // Expected in an outage, and the same every time: one line, not a stack.
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    logWarn("billing", `${action} failed: Stripe is unreachable (${reason})`);
    const message = "Billing is unavailable right now. Please try again in a minute.";
    return failRequest(event, 503, message, formPage);
  }
  logError("billing", `${action} failed`, error);
  return failRequest(event, 500, "Something went wrong with billing.", formPage);
}

/** Failures worth retrying later: the network, Stripe's side, or rate limits. */
export function isStripeUnreachable(error: unknown): boolean {
  if (!(error instanceof Stripe.errors.StripeError)) return false;
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (error instanceof Stripe.errors.StripeRateLimitError) return true;
  return (error.statusCode ?? 0) >= 500;
}

/** Stripe's answer for an id it does not know. */
export function isStripeNotFound(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    (error.statusCode === 404 || error.code === "resource_missing")
  );
}
