import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import Stripe from "stripe";
import { createWebhookEndpoint } from "../server/billing/setup.ts";

/**
 * The pieces of a running Tierwall, started the same way by `npm start` and by
 * the integration tests: the site build, the server build, the webhook
 * registration and the server process itself.
 */

export const repoRoot = resolve(import.meta.dirname, "..");

/** Runs a command to completion, failing with its output when it fails. */
export async function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<void> {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const [code] = (await once(child, "close")) as [number | null];
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${code}):\n${output}`);
  }
}

/**
 * Builds the example publication into `distDir` as `npm run build:site` does,
 * so that a writer's mistake fails `npm start` with the same short message.
 * Its links point at `siteUrl`, the address the build will be served at.
 */
export async function runSiteBuild(
  distDir: string,
  siteUrl = "http://localhost:3000",
): Promise<void> {
  const buildScript = resolve(repoRoot, "scripts/build-site.ts");
  await run(process.execPath, ["--import", "tsx", buildScript, "--quiet"], {
    DIST_DIR: distDir,
    SITE_URL: siteUrl,
  });
}

/** Builds the Nitro server into `outputDir` (its entry is `server/index.mjs`). */
export async function runServerBuild(outputDir: string, buildDir: string): Promise<void> {
  const nitroCli = resolve(repoRoot, "node_modules/nitropack/dist/cli/index.mjs");
  await run(process.execPath, [nitroCli, "build"], {
    TIERWALL_OUTPUT_DIR: outputDir,
    TIERWALL_BUILD_DIR: buildDir,
  });
}

/** An SDK client for the Stripe emulator at `baseUrl`. */
export function emulatorStripeClient(baseUrl: string): Stripe {
  const url = new URL(baseUrl);
  return new Stripe("sk_test_tierwall_offline", {
    host: url.hostname,
    port: Number(url.port),
    protocol: url.protocol === "https:" ? "https" : "http",
    maxNetworkRetries: 0,
  });
}

/**
 * Registers the server's webhook endpoint on the Stripe emulator, listening to
 * the events the server handles (as `npm run stripe:setup` does), and returns
 * its signing secret. Earlier registrations of the same URL are removed first:
 * Stripe shows a secret only when it creates an endpoint, and a fresh one
 * means events are not delivered twice after a restart.
 */
export async function registerWebhook(
  stripe: Stripe,
  webhookUrl: string,
  /** Other addresses of this same server whose old endpoints should go too. */
  aliases: readonly string[] = [],
): Promise<string> {
  const replaced = new Set([webhookUrl, ...aliases]);
  const existing = await stripe.webhookEndpoints
    .list({ limit: 100 })
    .autoPagingToArray({ limit: 1_000 });
  for (const endpoint of existing) {
    if (replaced.has(endpoint.url)) await stripe.webhookEndpoints.del(endpoint.id);
  }

  const endpoint = await createWebhookEndpoint(stripe, webhookUrl);
  if (!endpoint.secret) {
    throw new Error("The webhook endpoint was created without a secret");
  }
  return endpoint.secret;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the server printed, for test failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the built server and resolves once `/api/health` answers. */
export async function startServer(
  outputDir: string,
  env: Record<string, string>,
  options: {
    inheritOutput?: boolean;
    timeoutMs?: number;
    /** Runs this many server processes under `scripts/cluster.ts` instead of one. */
    workers?: number;
  } = {},
): Promise<ServerProcess> {
  const port = env.PORT ?? "3000";
  const url = `http://127.0.0.1:${port}`;
  const entry = resolve(outputDir, "server/index.mjs");
  const args = options.workers
    ? ["--import", "tsx", resolve(repoRoot, "scripts/cluster.ts"), "--entry", entry]
    : [entry];
  if (options.workers) env = { ...env, TIERWALL_WORKERS: String(options.workers) };
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: "production", ...env },
    stdio: options.inheritOutput
      ? ["ignore", "inherit", "inherit"]
      : ["ignore", "pipe", "pipe"],
  });

  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const server: ServerProcess = {
    child,
    url,
    output: () => output,
    stop: () => stopProcess(child),
  };
  await waitForHealth(server, options.timeoutMs ?? 20_000);
  return server;
}

async function waitForHealth(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) {
      throw new Error(
        `The server exited with ${server.child.exitCode}:\n${server.output()}`,
      );
    }
    try {
      const response = await fetch(`${server.url}/api/health`);
      if (response.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  await server.stop();
  throw new Error(
    `The server did not answer within ${timeoutMs} ms:\n${server.output()}`,
  );
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
