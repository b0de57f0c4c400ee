import { defineCommand, runMain } from "citty";
import { runStripeSetup, type SetupAction } from "../server/billing/setup.ts";
import { createStripeClient } from "../server/billing/stripe-client.ts";
import tierwall from "../tierwall.config.ts";
import { operatorRun } from "./operator.ts";

/**
 * `npm run stripe:setup`: creates or updates, in the Stripe account of
 * STRIPE_SECRET_KEY (or the emulator at STRIPE_API_BASE), the products, prices,
 * Billing Portal configuration and webhook endpoint tierwall.config.ts asks
 * for. Safe to run again: what already matches is left unchanged.
 */

function printAction(action: SetupAction): void {
  const what = `${action.object} ${action.name}`;
  const outcome = action.outcome === "other" ? "warning" : action.outcome;
  console.log(`${outcome.padEnd(9)} ${what} (${action.id}): ${action.detail}`);
}

function printWebhookSecret(secret: string | null, url: string): void {
  if (secret) {
    console.log(`
The webhook endpoint was created. Stripe shows its signing secret this once;
give it to the server:

STRIPE_WEBHOOK_SECRET=${secret}
`);
    return;
  }
  console.log(`
The webhook endpoint already exists: ${url}
Stripe showed its signing secret once, when it was created. To rotate it, roll
the secret in Stripe's dashboard (Developers > Webhooks), run the server with
STRIPE_WEBHOOK_SECRET=<new>,<old> while both may sign, then with
STRIPE_WEBHOOK_SECRET=<new> alone once the old one has expired.`);
}

const main = defineCommand({
  meta: {
    name: "stripe:setup",
    description: "Create or update the Stripe products, prices, portal and webhook",
  },
  args: {
    url: {
      type: "string",
      description: "The webhook endpoint's URL (default: $SITE_URL/api/stripe/webhook)",
    },
  },
  run: operatorRun(async ({ args }: { args: { url?: string } }) => {
    const siteUrl = tierwall.site.url.replace(/\/+$/, "");
    const webhookUrl = args.url ?? `${siteUrl}/api/stripe/webhook`;
    const stripe = createStripeClient(process.env);

    const result = await runStripeSetup(stripe, tierwall, { webhookUrl });
    for (const action of result.actions) printAction(action);
    printWebhookSecret(result.webhookSecret, webhookUrl);
  }),
});

void runMain(main);
