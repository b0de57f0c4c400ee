import { resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { getPort } from "get-port-please";
import { startResendEmulator } from "../emulators/resend/index.ts";
import { startStripeEmulator } from "../emulators/stripe/index.ts";
import { watchSite } from "../plugin/watch.ts";
import tierwall from "../tierwall.config.ts";
import {
  emulatorStripeClient,
  registerWebhook,
  repoRoot,
  runServerBuild,
  runSiteBuild,
  startServer,
} from "./stack.ts";

/**
 * `npm start`: builds the publication and the server, then serves it. With no
 * STRIPE_SECRET_KEY (or RESEND_API_KEY) set, it first starts the local Stripe
 * (or Resend) emulator, so the whole product runs offline.
 */

const stopHandlers: (() => Promise<void>)[] = [];

function step(message: string): void {
  console.log(`[start] ${message}`);
}

async function startOfflineStripe(): Promise<Record<string, string>> {
  const port = await getPort({ port: 12111, host: "127.0.0.1" });
  const emulator = await startStripeEmulator({
    port,
    statePath: resolve(repoRoot, "data/stripe-emulator.json"),
  });
  stopHandlers.push(() => emulator.close());
  step(`Stripe emulator on ${emulator.url}`);
  return {
    STRIPE_API_BASE: emulator.url,
    STRIPE_SECRET_KEY: "sk_test_tierwall_offline",
  };
}

async function startOfflineResend(): Promise<Record<string, string>> {
  const port = await getPort({ port: 12112, host: "127.0.0.1" });
  const emulator = await startResendEmulator({ port });
  stopHandlers.push(() => emulator.close());
  step(`Resend emulator on ${emulator.url} (open it to read the email Tierwall sent)`);
  return { RESEND_BASE_URL: emulator.url, RESEND_API_KEY: "re_tierwall_offline" };
}

/** Rebuilds the site whenever content/ or theme/ change; the server picks each build up. */
async function watchForChanges(distDir: string): Promise<void> {
  const watcher = await watchSite({
    distDir,
    quiet: true,
    onBuild: (result) => step(`Rebuilt the site: ${result.buildId}`),
    onError: (error) =>
      console.error(
        `[start] The rebuild failed; still serving the last good build.\n${error.message}`,
      ),
  });
  stopHandlers.push(async () => watcher.close());
  if (watcher.first instanceof Error) throw watcher.first;
  step("Watching content/ and theme/ for changes");
}

async function stopAll(): Promise<void> {
  for (const stop of stopHandlers.reverse()) await stop().catch(() => undefined);
}

const main = defineCommand({
  meta: { name: "start", description: "Build and serve the publication" },
  args: {
    dev: {
      type: "boolean",
      description: "Rebuild the site when content or theme change",
    },
    port: { type: "string", description: "Port for the server (default: $PORT or 3000)" },
  },
  async run({ args }) {
    const port = args.port ?? process.env.PORT ?? "3000";
    const siteUrl = process.env.SITE_URL ?? `http://localhost:${port}`;
    const distDir = resolve(repoRoot, process.env.DIST_DIR ?? "dist");
    const outputDir = resolve(repoRoot, ".output");
    const offlineStripe = !process.env.STRIPE_SECRET_KEY;
    const offlineResend = !process.env.RESEND_API_KEY;

    process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
    process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));

    const env: Record<string, string> = {
      PORT: port,
      SITE_URL: siteUrl,
      DIST_DIR: distDir,
      // The server's development tools (viewing a post as any tier) answer to this
      // flag alone; `npm start` clears it even when the shell exports it.
      TIERWALL_DEV: args.dev ? "1" : "",
    };
    // A dev server shows any post as any tier: it answers this machine only,
    // unless HOST says otherwise.
    if (args.dev) env.HOST = process.env.HOST ?? "127.0.0.1";
    // The local demo answers on localhost and 127.0.0.1 alike, so forms work
    // whichever address the browser was given.
    if (!process.env.SITE_URL && !process.env.ALLOWED_ORIGINS) {
      env.ALLOWED_ORIGINS = `http://127.0.0.1:${port}`;
    }
    if (offlineStripe) Object.assign(env, await startOfflineStripe());
    if (offlineResend) Object.assign(env, await startOfflineResend());

    step("Building the site and the server…");
    // In development the watcher's first build is the site build.
    await Promise.all([
      args.dev ? watchForChanges(distDir) : runSiteBuild(distDir, siteUrl),
      runServerBuild(outputDir, resolve(repoRoot, ".nitro")),
    ]);

    if (offlineStripe && env.STRIPE_API_BASE) {
      const stripe = emulatorStripeClient(env.STRIPE_API_BASE);
      // The emulator delivers to 127.0.0.1; an endpoint made for the site's own
      // address (by `stripe:setup` against the emulator) would get every event
      // too, signed with a secret this server does not know, so it goes.
      env.STRIPE_WEBHOOK_SECRET = await registerWebhook(
        stripe,
        `http://127.0.0.1:${port}/api/stripe/webhook`,
        [`${siteUrl.replace(/\/+$/, "")}/api/stripe/webhook`],
      );
    } else if (!process.env.STRIPE_WEBHOOK_SECRET) {
      console.warn(
        "[start] STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks will be refused. " +
          "`npm run stripe:setup` creates the endpoint and prints its secret.",
      );
    }

    const server = await startServer(outputDir, env, { inheritOutput: true });
    stopHandlers.unshift(() => server.stop());
    server.child.once("exit", (code) => {
      if (code !== 0 && code !== null) void stopAll().then(() => process.exit(code));
    });

    console.log(`
  ${tierwall.site.name} is live at ${siteUrl}
${offlineStripe ? "  Offline Stripe: pay with the test card 4242 4242 4242 4242, any future date, any CVC.\n" : ""}${args.dev ? "  Gated posts show a switch to view them as any tier (or add ?as=<tier>).\n" : ""}${offlineResend ? `  Email arrives at ${env.RESEND_BASE_URL}\n` : ""}  Press Ctrl-C to stop.
`);
  },
});

void runMain(main);
