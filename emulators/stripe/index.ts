import { createServer } from "node:http";
import { toNodeListener } from "h3";
import { closeServer, listen } from "../shared/http.ts";
import { seedCatalog } from "./catalog.ts";
import type { EmulatorContext, StartingCatalog } from "./context.ts";
import { WebhookDeliveries } from "./delivery.ts";
import { createEmulatorApp } from "./router.ts";
import { Store } from "./store.ts";

/**
 * A local stand-in for Stripe that the official SDK talks to unchanged:
 *
 *   const emulator = await startStripeEmulator();
 *   const url = new URL(emulator.url);
 *   const stripe = new Stripe("sk_test_anything", {
 *     host: url.hostname, port: Number(url.port), protocol: "http",
 *   });
 *
 * It serves Stripe's API under /v1 (catalog, customers, Checkout, subscriptions,
 * coupons and promotion codes, billing portal, webhook endpoints, events), the
 * hosted Checkout and portal pages a reader's browser visits, signed webhook
 * delivery, and test-only control routes under /_emulator/ (see control.ts).
 */

export interface StripeEmulatorOptions {
  /** 0 or undefined picks a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** A JSON file: state is loaded from it at start and saved after each change. */
  statePath?: string;
  /**
   * What the catalog holds on a fresh start (no state file yet) and after
   * `/_emulator/reset`: "example" (default) for the example publication's
   * tiers, "empty" for an account with no products or prices at all, as
   * `npm run stripe:setup` finds a new Stripe account.
   */
  catalog?: StartingCatalog;
  /** Delays before each retry of a failed webhook delivery. */
  retryDelaysMs?: number[];
  /** Receives one line per request, delivery and failure; silent by default. */
  log?: (line: string) => void;
}

export interface StripeEmulator {
  /** E.g. "http://127.0.0.1:41234". */
  url: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000];

export async function startStripeEmulator(
  options: StripeEmulatorOptions = {},
): Promise<StripeEmulator> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const catalog = options.catalog ?? "example";
  const store = new Store(options.statePath);
  if (!store.load() && catalog === "example") seedCatalog(store);

  const ctx: EmulatorContext = {
    store,
    deliveries: new WebhookDeliveries(
      store,
      options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
      log,
    ),
    baseUrl: "",
    log,
    activeRequest: null,
    apiOutage: false,
    catalog,
  };
  const server = createServer(toNodeListener(createEmulatorApp(ctx)));
  const { url, port } = await listen(server, options.port ?? 0, host);
  ctx.baseUrl = url;

  ctx.deliveries.resumePending();
  store.saveNow();
  log(`[stripe] emulator listening on ${ctx.baseUrl}`);

  return {
    url: ctx.baseUrl,
    port,
    async close() {
      ctx.deliveries.close();
      await closeServer(server);
      store.saveNow();
    },
  };
}
