import { defineNitroPlugin } from "nitropack/runtime";
import { readCheckoutOptions } from "../billing/checkout-options.ts";
import { pastDueGraceDays } from "../billing/grace.ts";
import { useStripe } from "../billing/stripe-client.ts";
import { parseWebhookSecrets } from "../billing/webhook.ts";
import { useEdgeConfig } from "../edge/config.ts";
import { readDeliveryPolicy, readPollMs, readShutdownDrainMs } from "../email/worker.ts";
import { checkFeedTokenSecret } from "../feeds/feed-key.ts";
import { trustedProxyHops } from "../http/client-ip.ts";
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
    parseWebhookSecrets(process.env.STRIPE_WEBHOOK_SECRET);
    checkFeedTokenSecret(process.env.FEED_TOKEN_SECRET);
    checkEmailSettings(process.env);
    trustedProxyHops(process.env.TRUST_PROXY);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logError("server", `cannot start: ${message}`);
    process.exit(1);
  }
  warnAboutMissingServices(process.env);
  warnAboutPublicProxyTrust(process.env);
});

function checkEmailSettings(env: NodeJS.ProcessEnv): void {
  readDeliveryPolicy(env);
  readPollMs(env);
  readShutdownDrainMs(env);
}

/**
 * X-Forwarded-For is only as honest as whoever can reach the port: trusted
 * while the port listens on every interface, it lets any client that connects
 * directly name its own address, and so dodge its rate limits.
 */
function warnAboutPublicProxyTrust(env: NodeJS.ProcessEnv): void {
  const hops = trustedProxyHops(env.TRUST_PROXY);
  const host = (env.NITRO_HOST || env.HOST || "").trim();
  if (hops === 0 || !["", "0.0.0.0", "::"].includes(host)) return;
  logWarn(
    "http",
    `TRUST_PROXY=${hops} while the server listens on every interface ` +
      `(HOST ${host ? `is ${host}` : "is unset"}): anyone who reaches the port directly ` +
      "can forge X-Forwarded-For and pick the address rate limits count against. " +
      "Bind HOST to loopback (127.0.0.1) or a private interface only the proxy reaches.",
  );
}

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
