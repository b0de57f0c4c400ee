import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type Stripe from "stripe";
import { newId } from "./ids.ts";
import type {
  CheckoutSubscriptionData,
  Delivery,
  IdempotentResult,
  SavedCard,
  StaleRead,
  StoredCheckoutSession,
  StoredCoupon,
  StoredCustomer,
  StoredDiscount,
  StoredEvent,
  StoredInvoice,
  StoredPortalSession,
  StoredPrice,
  StoredProduct,
  StoredPromotionCode,
  StoredSubscription,
  StoredWebhookEndpoint,
} from "./types.ts";

/** Rows of one object type, kept in creation order. */
export class Table<T extends { id: string }> {
  private readonly rows = new Map<string, T>();

  get(id: string): T | undefined {
    return this.rows.get(id);
  }

  insert(row: T): T {
    this.rows.set(row.id, row);
    return row;
  }

  delete(id: string): boolean {
    return this.rows.delete(id);
  }

  /** Oldest first. */
  all(): T[] {
    return [...this.rows.values()];
  }

  /** Newest first, the order of Stripe's list endpoints. */
  newestFirst(): T[] {
    return this.all().reverse();
  }

  replaceAll(rows: T[]): void {
    this.rows.clear();
    for (const row of rows) this.rows.set(row.id, row);
  }
}

interface SavedState {
  version: 1;
  clockOffsetSeconds: number;
  portalConfigurationId: string;
  tables: Record<string, { id: string }[]>;
}

/**
 * All of the emulator's state, in memory. With a `statePath` the state is
 * written to that JSON file shortly after every change (atomically, through a
 * rename), so a restarted emulator carries on where it stopped.
 */
export class Store {
  readonly products = new Table<StoredProduct>();
  readonly prices = new Table<StoredPrice>();
  readonly customers = new Table<StoredCustomer>();
  readonly checkoutSessions = new Table<StoredCheckoutSession>();
  readonly subscriptions = new Table<StoredSubscription>();
  readonly invoices = new Table<StoredInvoice>();
  readonly portalSessions = new Table<StoredPortalSession>();
  readonly webhookEndpoints = new Table<StoredWebhookEndpoint>();
  readonly events = new Table<StoredEvent>();
  readonly deliveries = new Table<Delivery>();
  readonly idempotency = new Table<IdempotentResult & { id: string }>();
  /** Checkout's `subscription_data`, which the session object does not show. */
  readonly checkoutSubscriptionData = new Table<CheckoutSubscriptionData>();
  /** The card on file per customer, which the customer object does not show. */
  readonly savedCards = new Table<SavedCard>();
  readonly portalConfigurations = new Table<Stripe.BillingPortal.Configuration>();
  readonly coupons = new Table<StoredCoupon>();
  readonly promotionCodes = new Table<StoredPromotionCode>();
  readonly discounts = new Table<StoredDiscount>();
  /** Subscription reads armed to answer stale, which Stripe's API does not show. */
  readonly staleReads = new Table<StaleRead>();

  /** Seconds added to the wall clock by the test clock (`/_emulator/clock`). */
  clockOffsetSeconds = 0;
  /** The account's default portal configuration: the one sessions use unless told. */
  portalConfigurationId = newId("bpc");

  private saveScheduled = false;

  constructor(private readonly statePath?: string) {}

  /** The emulator's current time in Unix seconds, test clock included. */
  now(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffsetSeconds;
  }

  /** Finds an object that `expand[]` may inline, by its ID prefix. */
  lookup(id: string): { id: string } | undefined {
    const prefix = id.slice(0, id.indexOf("_"));
    return this.tableByPrefix()[prefix]?.get(id);
  }

  private tableByPrefix(): Record<string, Table<{ id: string }> | undefined> {
    return {
      prod: this.products,
      price: this.prices,
      cus: this.customers,
      sub: this.subscriptions,
      in: this.invoices,
      promo: this.promotionCodes,
      di: this.discounts,
    };
  }

  private tables(): Record<string, Table<{ id: string }>> {
    return {
      products: this.products,
      prices: this.prices,
      customers: this.customers,
      checkoutSessions: this.checkoutSessions,
      subscriptions: this.subscriptions,
      invoices: this.invoices,
      portalSessions: this.portalSessions,
      webhookEndpoints: this.webhookEndpoints,
      events: this.events,
      deliveries: this.deliveries,
      idempotency: this.idempotency,
      checkoutSubscriptionData: this.checkoutSubscriptionData,
      savedCards: this.savedCards,
      portalConfigurations: this.portalConfigurations,
      coupons: this.coupons,
      promotionCodes: this.promotionCodes,
      discounts: this.discounts,
      staleReads: this.staleReads,
    };
  }

  /** Empties every table and rewinds the test clock. */
  clear(): void {
    for (const table of Object.values(this.tables())) table.replaceAll([]);
    this.clockOffsetSeconds = 0;
  }

  /** Schedules a save; several changes in one tick are written once. */
  markChanged(): void {
    if (!this.statePath || this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => this.saveNow());
  }

  saveNow(): void {
    this.saveScheduled = false;
    if (!this.statePath) return;

    const tables: SavedState["tables"] = {};
    for (const [name, table] of Object.entries(this.tables())) tables[name] = table.all();
    const state: SavedState = {
      version: 1,
      clockOffsetSeconds: this.clockOffsetSeconds,
      portalConfigurationId: this.portalConfigurationId,
      tables,
    };

    const temporary = `${this.statePath}.tmp`;
    mkdirSync(dirname(this.statePath), { recursive: true });
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, this.statePath);
  }

  /** Loads the state file; returns false when there is none yet. */
  load(): boolean {
    if (!this.statePath || !existsSync(this.statePath)) return false;

    const state = JSON.parse(readFileSync(this.statePath, "utf8")) as SavedState;
    this.clockOffsetSeconds = state.clockOffsetSeconds;
    this.portalConfigurationId = state.portalConfigurationId;
    for (const [name, table] of Object.entries(this.tables())) {
      table.replaceAll(state.tables[name] ?? []);
    }
    return true;
  }
}
