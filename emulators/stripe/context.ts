import type { WebhookDeliveries } from "./delivery.ts";
import type { Store } from "./store.ts";

/** The example publication's tier products, or none, as in a new Stripe account. */
export type StartingCatalog = "example" | "empty";

/** What every route handler and domain function of the emulator works with. */
export interface EmulatorContext {
  store: Store;
  deliveries: WebhookDeliveries;
  /** Where the emulator listens, e.g. "http://127.0.0.1:12111"; hosted page URLs start with it. */
  baseUrl: string;
  log: (line: string) => void;
  /**
   * The API request being handled, recorded on the events it causes. Handlers
   * run synchronously, so the router sets this before a handler and clears it
   * after. Null for hosted pages and the test clock, as for dashboard actions.
   */
  activeRequest: { id: string; idempotencyKey: string | null } | null;
  /** While true every /v1 request fails as during a Stripe outage (`/_emulator/outage`). */
  apiOutage: boolean;
  /** What a fresh start and `/_emulator/reset` put in the catalog (index.ts). */
  catalog: StartingCatalog;
}
