import { createError, defineEventHandler, getRequestHeader, readRawBody } from "h3";
import { receiveWebhook, type WebhookOutcome } from "../../billing/webhook.ts";
import { logError, logInfo, logWarn } from "../../log.ts";

// Stripe's events. The signature is the check here: this route needs no session
// and no Origin. Any failure to apply answers 500, so Stripe delivers again.
export default defineEventHandler(async (event) => {
  const rawBody = await readRawBody(event, false);
  const signature = getRequestHeader(event, "stripe-signature");

  let outcome: WebhookOutcome;
  try {
    outcome = await receiveWebhook(rawBody, signature);
  } catch (error) {
    logError("billing", "webhook failed to apply; Stripe will retry", error);
    throw createError({ statusCode: 500, message: "The event could not be applied." });
  }

  switch (outcome.kind) {
    case "unconfigured":
      logError("billing", "webhook refused: STRIPE_WEBHOOK_SECRET is not set");
      throw createError({ statusCode: 500, message: "Webhooks are not configured." });
    case "refused":
      logWarn("billing", `webhook refused: ${outcome.reason}`);
      throw createError({
        statusCode: 400,
        message: `Webhook refused: ${outcome.reason}.`,
      });
    case "duplicate":
      logInfo(
        "billing",
        `webhook ${outcome.event.id} ${outcome.event.type}: already applied`,
      );
      return { received: true, duplicate: true };
    case "ignored":
      logInfo("billing", `webhook ${outcome.event.id} ${outcome.event.type}: not used`);
      return { received: true, ignored: true };
    case "applied":
      logInfo(
        "billing",
        `webhook ${outcome.event.id} ${outcome.event.type} applied: ${outcome.detail}`,
      );
      return { received: true };
  }
});
