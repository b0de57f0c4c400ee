import Stripe from "stripe";

/**
 * The server's one Stripe SDK instance. With `STRIPE_API_BASE` set, the SDK talks
 * to that address instead of Stripe (the offline emulator in development and
 * tests); the emulator accepts any test key, so a placeholder stands in when no
 * key is configured.
 */

/** Accepted by the emulator; Stripe itself would refuse it. */
const emulatorPlaceholderKey = "sk_test_tierwall_emulator";

let instance: Stripe | undefined;

export function useStripe(): Stripe {
  instance ??= createStripeClient(process.env);
  return instance;
}

export function createStripeClient(env: NodeJS.ProcessEnv): Stripe {
  const apiBase = env.STRIPE_API_BASE?.trim() || undefined;
  const key = env.STRIPE_SECRET_KEY?.trim() || (apiBase ? emulatorPlaceholderKey : "");
  if (!key) {
    throw new Error(
      "Stripe is not configured: set STRIPE_SECRET_KEY, or STRIPE_API_BASE to use the emulator.",
    );
  }

  const config: Stripe.StripeConfig = {
    appInfo: { name: "Tierwall" },
    timeout: 20_000,
  };
  return new Stripe(key, apiBase ? { ...config, ...hostConfig(apiBase) } : config);
}

/** `http://127.0.0.1:12111` → the SDK's separate host, port and protocol options. */
export function hostConfig(
  apiBase: string,
): Pick<Stripe.StripeConfig, "host" | "port" | "protocol"> {
  const url = URL.canParse(apiBase) ? new URL(apiBase) : null;
  if (!url || !["http:", "https:"].includes(url.protocol) || !url.hostname) {
    throw new Error(
      `STRIPE_API_BASE must be an http(s) URL such as http://127.0.0.1:12111, got "${apiBase}".`,
    );
  }

  const protocol = url.protocol === "http:" ? "http" : "https";
  const port = url.port || (protocol === "http" ? "80" : "443");
  // The SDK wants a bare host: "[::1]" in a URL is "::1" to Node's http client.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port, protocol };
}
