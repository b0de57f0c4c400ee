import { defineNitroPlugin } from "nitropack/runtime";
import { readCheckoutOptions } from "../billing/checkout-options.ts";
import { pastDueGraceDays } from "../billing/grace.ts";
import { useStripe } from "../billing/stripe-client.ts";
import { parseWebhookSecrets } from "../billing/webhook.ts";
import { useEdgeConfig } from "../edge/config.ts";
import { logError, logWarn } from "../log.ts";

/**
 * Reads the settings that come from the environment before the server takes
 * a request. A mistyped value stops the start with one line naming the
 * variable, rather than failing the first reader who reaches it (a Checkout,
 * a gated page at the edge). A missing service is only a warning: the site
 * serves its free pages without Stripe or Resend, and says plainly at start
 * what will not work.
 */
export default defineNitroPlugin(() => {
  try {
    readCheckoutOptions();
    pastDueGraceDays();
    useEdgeConfig();
    checkStripe(process.env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logError("server", `cannot start: ${message}`);
    process.exit(1);
  }
  warnAboutMissingServices(process.env);
});

/** A Stripe address that is set must parse; no key at all is only a warning. */
function checkStripe(env: NodeJS.ProcessEnv): void {
  if (env.STRIPE_SECRET_KEY?.trim() || env.STRIPE_API_BASE?.trim()) useStripe();
}

function warnAboutMissingServices(env: NodeJS.ProcessEnv): void {
  if (!env.STRIPE_SECRET_KEY?.trim() && !env.STRIPE_API_BASE?.trim()) {
    logWarn(
      "billing",
      "Stripe is not configured: no prices on the landing page, Checkout and the " +
        "portal answer 503. Set STRIPE_SECRET_KEY (or STRIPE_API_BASE for the emulator).",
    );
  } else if (parseWebhookSecrets(env.STRIPE_WEBHOOK_SECRET).length === 0) {
    logWarn(
      "billing",
      "STRIPE_WEBHOOK_SECRET is not set: Stripe's webhooks will be refused, so " +
        "plan changes made in Stripe will not reach readers. npm run stripe:setup prints it.",
    );
  }
  if (!env.RESEND_API_KEY?.trim() && !env.RESEND_BASE_URL?.trim()) {
    logWarn(
      "email",
      "RESEND_API_KEY is not set: email waits in the outbox and is retried until " +
        "it is (or RESEND_BASE_URL points at the Resend emulator).",
    );
  }
}
