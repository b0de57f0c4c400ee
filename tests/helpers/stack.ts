import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { getRandomPort } from "get-port-please";
import type Stripe from "stripe";
import {
  type ResendEmulator,
  startResendEmulator,
} from "../../emulators/resend/index.ts";
import {
  type StripeEmulator,
  startStripeEmulator,
} from "../../emulators/stripe/index.ts";
import {
  emulatorStripeClient,
  registerWebhook,
  type ServerProcess,
  startServer,
} from "../../scripts/stack.ts";
import { currentTestBuild } from "./paths.ts";

/**
 * A whole Tierwall for one test file: both emulators and the built server on
 * free loopback ports, with a SQLite file of its own.
 */
export interface Stack {
  baseUrl: string;
  /** The official SDK, pointed at the Stripe emulator. */
  stripe: Stripe;
  stripeEmulator: StripeEmulator;
  stripeUrl: string;
  resendEmulator: ResendEmulator;
  resendUrl: string;
  /** The signing secret the server verifies webhooks with. */
  webhookSecret: string;
  databasePath: string;
  distDir: string;
  server: ServerProcess;
  /** A second connection to the server's database. */
  openDb(): Database.Database;
  /** Signs a new reader up over HTTP and returns their session cookie. */
  signUp(email?: string, password?: string): Promise<Reader>;
  /**
   * Stores a subscription for a reader straight into SQLite, as a synced
   * webhook would, for tests about serving rather than billing. Returns the
   * reader's user id.
   */
  storeSubscription(email: string, tier: string, status?: string): string;
  /** Waits until the Stripe emulator has no webhook delivery in flight. */
  flushWebhooks(): Promise<void>;
  /** `fetch` against the server with the headers a browser form post carries. */
  post(path: string, fields: Record<string, string>, cookie?: string): Promise<Response>;
  /**
   * Stops the server, with SIGTERM or, for `crash`, SIGKILL, and starts it
   * again on the same port, database and emulators; `server` is then the new
   * process. `env` adds to or overrides the environment it started with.
   */
  restart(options?: { crash?: boolean; env?: Record<string, string> }): Promise<void>;
  stop(): Promise<void>;
}

export interface Reader {
  email: string;
  password: string;
  cookie: string;
}

export interface StackOptions {
  /** Extra environment for the server. */
  env?: Record<string, string>;
  distDir?: string;
  /**
   * The server's STRIPE_WEBHOOK_SECRET, made from the secret the emulator gave
   * its endpoint: to list a retired secret beside it, as during a rotation.
   */
  webhookSecretEnv?: (registered: string) => string;
  /** Runs the server as this many processes under the cluster launcher. */
  workers?: number;
}

let readerCount = 0;

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const folder = mkdtempSync(join(tmpdir(), "tierwall-stack-"));
  const databasePath = join(folder, "tierwall.db");
  const build = currentTestBuild();
  const distDir = options.distDir ?? build.distDir;

  const stripeEmulator = await startStripeEmulator({ retryDelaysMs: [200, 500, 1000] });
  const resendEmulator = await startResendEmulator();
  const stripe = emulatorStripeClient(stripeEmulator.url);

  const port = await getRandomPort("127.0.0.1");
  const baseUrl = `http://127.0.0.1:${port}`;
  const webhookSecret = await registerWebhook(stripe, `${baseUrl}/api/stripe/webhook`);

  const serverEnv: Record<string, string> = {
    PORT: String(port),
    HOST: "127.0.0.1",
    SITE_URL: baseUrl,
    DATABASE_PATH: databasePath,
    DIST_DIR: distDir,
    STRIPE_API_BASE: stripeEmulator.url,
    STRIPE_SECRET_KEY: "sk_test_tierwall_offline",
    STRIPE_WEBHOOK_SECRET: options.webhookSecretEnv?.(webhookSecret) ?? webhookSecret,
    RESEND_BASE_URL: resendEmulator.url,
    RESEND_API_KEY: "re_test_tierwall_offline",
    ...options.env,
  };
  const serverOptions = { workers: options.workers };
  const server = await startServer(build.outputDir, serverEnv, serverOptions);

  const post = (path: string, fields: Record<string, string>, cookie?: string) =>
    fetch(`${baseUrl}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        origin: baseUrl,
        "content-type": "application/x-www-form-urlencoded",
        ...(cookie ? { cookie } : {}),
      },
      body: new URLSearchParams(fields),
    });

  const signUp = async (
    email?: string,
    password = "correct horse battery",
  ): Promise<Reader> => {
    readerCount++;
    const address = email ?? `reader${readerCount}.${Date.now()}@example.com`;
    const response = await post("/api/auth/signup", { email: address, password });
    if (response.status !== 303) {
      throw new Error(`Sign-up answered ${response.status}: ${await response.text()}`);
    }
    return { email: address, password, cookie: sessionCookie(response) };
  };

  const stack: Stack = {
    baseUrl,
    stripe,
    stripeEmulator,
    stripeUrl: stripeEmulator.url,
    resendEmulator,
    resendUrl: resendEmulator.url,
    webhookSecret,
    databasePath,
    distDir,
    server,
    openDb: () => new Database(databasePath),
    signUp,
    storeSubscription: (email, tier, status = "active") =>
      storeSubscription(databasePath, email, tier, status),
    post,
    flushWebhooks: async () => {
      await fetch(`${stripeEmulator.url}/_emulator/flush`, { method: "POST" });
    },
    restart: async ({ crash = false, env = {} } = {}) => {
      const { child } = stack.server;
      if (crash && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }
      await stack.server.stop();
      Object.assign(serverEnv, env);
      stack.server = await startServer(build.outputDir, serverEnv, serverOptions);
    },
    stop: async () => {
      await stack.server.stop();
      await Promise.all([stripeEmulator.close(), resendEmulator.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
  return stack;
}

/** The `name=value` pair of the session cookie a response sets. */
export function sessionCookie(response: Response): string {
  for (const header of response.headers.getSetCookie()) {
    const pair = header.split(";")[0] ?? "";
    const [, value] = pair.split("=");
    if (value) return pair;
  }
  throw new Error("The response set no session cookie");
}

function storeSubscription(
  databasePath: string,
  email: string,
  tier: string,
  status: string,
): string {
  const db = new Database(databasePath);
  try {
    const { id } = db.prepare("SELECT id FROM user WHERE email = ?").get(email) as {
      id: string;
    };
    const now = Math.floor(Date.now() / 1000);
    db.prepare(
      `INSERT INTO subscription (id, user_id, customer_id, status, tier, billing_interval,
         current_period_end, stripe_created, updated_at)
       VALUES (?, ?, ?, ?, ?, 'month', ?, ?, ?)`,
    ).run(
      `sub_${id}_${tier}`,
      id,
      `cus_${id}`,
      status,
      tier,
      now + 30 * 86_400,
      now,
      now,
    );
    return id;
  } finally {
    db.close();
  }
}
