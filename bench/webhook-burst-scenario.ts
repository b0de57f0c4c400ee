import Database from "better-sqlite3";
import type Stripe from "stripe";
import type { BurstReport } from "../emulators/stripe/burst.ts";
import { HANDLED_EVENT_TYPES } from "../server/billing/events.ts";

/**
 * A webhook burst against a running Tierwall, shared by `npm run
 * bench:webhooks` and tests/integration/webhook-burst.test.ts.
 *
 * Readers subscribe across the tiers; their first events go out in a warm-up
 * burst, so the server stores every subscription. Then most of them change
 * in Stripe (a plan change, a scheduled or immediate cancellation, a failed
 * renewal, a new subscription) while those events are held back and
 * dropped, so that the measured burst is the first the server hears of the
 * changes. Afterwards `verifyExactlyOnce` compares the server's database and
 * log with what Stripe holds.
 */

export interface BurstTarget {
  stripe: Stripe;
  stripeUrl: string;
  /** The server's webhook URL, as registered on the emulator. */
  webhookUrl: string;
  databasePath: string;
  /** Everything the server has logged so far. */
  serverOutput: () => string;
}

export interface BurstOptions {
  customers: number;
  events: number;
  duplicates: number;
  concurrency: number;
}

/** What each reader's subscription goes through before the measured burst. */
const CHANGES = ["none", "plan", "cancel-later", "payment-failed", "cancel-now"] as const;
type Change = (typeof CHANGES)[number] | "new";

export interface Seeded {
  /** Customer id → the reader's address and what changed. */
  readers: Map<string, { email: string; change: Change }>;
  /** The burst that told the server about the first subscriptions. */
  warmUp: BurstReport;
}

/** Types Tierwall does not listen to, which the endpoint is also sent. */
const IGNORED_TYPES = ["customer.updated", "invoice.finalized"] as const;

export const BURST_MIX = {
  "customer.subscription.updated": 50,
  "invoice.paid": 25,
  "invoice.payment_failed": 5,
  "customer.updated": 10,
  "invoice.finalized": 10,
};

const TIER_ORDER = ["spark", "core", "lightning"];

async function control<T>(
  stripeUrl: string,
  path: string,
  body: object = {},
): Promise<T> {
  const response = await fetch(`${stripeUrl}/_emulator/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`/_emulator/${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export function burst(stripeUrl: string, body: object): Promise<BurstReport> {
  return control<BurstReport>(stripeUrl, "webhooks/burst", body);
}

/**
 * Reader accounts straight into SQLite: sign-up is rate limited per address
 * and hashes each password, neither of which this measures. Readers are found
 * by the `user_id` Checkout writes into subscription metadata.
 */
function insertReaders(databasePath: string, count: number): string[] {
  const db = new Database(databasePath);
  const now = Math.floor(Date.now() / 1000);
  const insert = db.prepare(
    `INSERT INTO user (id, email, password_hash, email_verified, created_at)
     VALUES (?, ?, 'not-a-password-hash', 1, ?)`,
  );
  const ids = Array.from(
    { length: count },
    (_, i) => `burst${String(i).padStart(5, "0")}`,
  );
  db.transaction(() => {
    for (const id of ids) insert.run(id, `${id}@burst.example`, now);
  })();
  db.close();
  return ids;
}

async function monthlyPrices(stripe: Stripe): Promise<Map<string, string>> {
  const keys = TIER_ORDER.map((tier) => `${tier}_monthly`);
  const prices = await stripe.prices.list({ lookup_keys: keys, limit: 10 });
  return new Map(prices.data.map((price) => [String(price.lookup_key), price.id]));
}

async function subscribeReader(
  stripe: Stripe,
  userId: string,
  priceId: string,
): Promise<{ customer: string; subscription: string }> {
  const customer = await stripe.customers.create({
    email: `${userId}@burst.example`,
    metadata: { user_id: userId },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: priceId }],
    metadata: { user_id: userId },
  });
  return { customer: customer.id, subscription: subscription.id };
}

/** Deliveries of the events `work` causes are held, then dropped. */
async function withoutDelivery(stripeUrl: string, work: () => Promise<void>) {
  await control(stripeUrl, "webhooks/settings", { hold: true });
  try {
    await work();
  } finally {
    await control(stripeUrl, "webhooks/drop");
    await control(stripeUrl, "webhooks/settings", { hold: false });
  }
}

export async function seedBurst(
  target: BurstTarget,
  options: BurstOptions,
): Promise<Seeded> {
  const { stripe, stripeUrl } = target;
  const userIds = insertReaders(target.databasePath, options.customers);
  const prices = await monthlyPrices(stripe);
  const priceOf = (i: number) => prices.get(`${TIER_ORDER[i % 3]}_monthly`) ?? "";
  const readers: Seeded["readers"] = new Map();
  const subscriptions: string[] = [];
  // A tenth of the readers subscribe only after the warm-up.
  const early = userIds.slice(0, Math.ceil(userIds.length * 0.9));

  await withoutDelivery(stripeUrl, async () => {
    for (const [i, userId] of early.entries()) {
      const made = await subscribeReader(stripe, userId, priceOf(i));
      subscriptions.push(made.subscription);
      readers.set(made.customer, { email: `${userId}@burst.example`, change: "none" });
    }
  });
  await listenToIgnoredTypes(target);
  const warmUp = await burst(stripeUrl, {
    count: early.length,
    mix: { "customer.subscription.created": 1 },
    concurrency: options.concurrency,
  });

  await withoutDelivery(stripeUrl, async () => {
    await changeSubscriptions(target, subscriptions, readers, priceOf);
    for (const [i, userId] of userIds.slice(early.length).entries()) {
      const made = await subscribeReader(stripe, userId, priceOf(i));
      readers.set(made.customer, { email: `${userId}@burst.example`, change: "new" });
    }
  });
  return { readers, warmUp };
}

/** The server's endpoint also gets event types it ignores, as a shared endpoint might. */
async function listenToIgnoredTypes(target: BurstTarget): Promise<void> {
  const endpoints = await target.stripe.webhookEndpoints.list({ limit: 100 });
  const endpoint = endpoints.data.find((e) => e.url === target.webhookUrl);
  if (!endpoint) throw new Error(`No webhook endpoint for ${target.webhookUrl}`);
  const events = [...new Set([...endpoint.enabled_events, ...IGNORED_TYPES])];
  await target.stripe.webhookEndpoints.update(endpoint.id, {
    enabled_events: events as Stripe.WebhookEndpointUpdateParams.EnabledEvent[],
  });
}

async function changeSubscriptions(
  target: BurstTarget,
  subscriptions: string[],
  readers: Seeded["readers"],
  priceOf: (i: number) => string,
): Promise<void> {
  const customers = [...readers.keys()];
  for (const [i, id] of subscriptions.entries()) {
    const change = CHANGES[i % CHANGES.length] ?? "none";
    const reader = readers.get(customers[i] ?? "");
    if (reader) reader.change = change;
    await applyChange(target, id, change, priceOf(i + 1));
  }
}

async function applyChange(
  target: BurstTarget,
  id: string,
  change: Change,
  otherPrice: string,
): Promise<void> {
  const { stripe, stripeUrl } = target;
  if (change === "plan") {
    const current = await stripe.subscriptions.retrieve(id);
    const item = current.items.data[0]?.id ?? "";
    await stripe.subscriptions.update(id, { items: [{ id: item, price: otherPrice }] });
  } else if (change === "cancel-later") {
    await stripe.subscriptions.update(id, { cancel_at_period_end: true });
  } else if (change === "payment-failed") {
    await control(stripeUrl, `subscriptions/${id}/payment_failed`);
  } else if (change === "cancel-now") {
    await stripe.subscriptions.cancel(id);
  }
}

/** The one email each change calls for, on top of every reader's welcome. */
const EMAIL_OF_CHANGE: Record<Change, string | null> = {
  none: null,
  new: null,
  plan: "plan-changed",
  "cancel-later": "cancellation-scheduled",
  "payment-failed": "payment-failed",
  "cancel-now": "subscription-ended",
};

export interface Verdict {
  ok: boolean;
  problems: string[];
  checked: {
    handledEvents: number;
    ignoredEvents: number;
    recorded: number;
    appliedLogLines: number;
    duplicateLogLines: number;
    subscriptions: number;
    emails: number;
  };
}

interface EmulatorEvent {
  id: string;
  type: string;
  deliveries: { url: string; attempts: { status: number | null }[] }[];
}

async function successfulDeliveries(
  stripeUrl: string,
  webhookUrl: string,
): Promise<Map<string, number>> {
  const response = await fetch(`${stripeUrl}/_emulator/events`);
  const events = (await response.json()) as EmulatorEvent[];
  return new Map(
    events.map((event) => [
      event.id,
      event.deliveries
        .filter((delivery) => delivery.url === webhookUrl)
        .flatMap((delivery) => delivery.attempts)
        .filter((a) => a.status !== null && a.status >= 200 && a.status < 300).length,
    ]),
  );
}

/** Per event id, how often the server logged applying it and finding it applied. */
function webhookLogCounts(output: string): {
  applied: Map<string, number>;
  duplicate: Map<string, number>;
} {
  const applied = new Map<string, number>();
  const duplicate = new Map<string, number>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const { message } = JSON.parse(line) as { message?: string };
    const text = message ?? "";
    const done = /^webhook (\S+) \S+ applied: /.exec(text);
    const again = /^webhook (\S+) \S+: already applied$/.exec(text);
    const match = done ?? again;
    if (!match?.[1]) continue;
    const counts = again ? duplicate : applied;
    counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return { applied, duplicate };
}

export async function verifyExactlyOnce(
  target: BurstTarget,
  report: BurstReport,
  seeded: Seeded,
): Promise<Verdict> {
  const problems: string[] = [];
  const handledTypes = new Set<string>(HANDLED_EVENT_TYPES);
  const events = await eventsOf(target.stripe, report.event_ids);
  const handled = events.filter((event) => handledTypes.has(event.type));
  const ignored = events.filter((event) => !handledTypes.has(event.type));
  if (events.length !== report.events) {
    problems.push(`Stripe lists ${events.length} of the burst's ${report.events} events`);
  }
  if (report.failed > 0) problems.push(`${report.failed} deliveries failed for good`);

  const db = new Database(target.databasePath, { readonly: true });
  try {
    const recorded = checkRecorded(db, handled, ignored, problems);
    const logs = checkLogs(target, handled, ignored, problems);
    const successes = await successfulDeliveries(target.stripeUrl, target.webhookUrl);
    for (const event of handled) {
      const answered = successes.get(event.id) ?? 0;
      const logged =
        (logs.applied.get(event.id) ?? 0) + (logs.duplicate.get(event.id) ?? 0);
      if (logged !== answered) {
        problems.push(`${event.id}: ${answered} 2xx answers but ${logged} log lines`);
      }
    }
    const subscriptions = await checkSubscriptions(target.stripe, db, problems);
    const emails = checkEmails(db, seeded, problems);
    return {
      ok: problems.length === 0,
      problems,
      checked: {
        handledEvents: handled.length,
        ignoredEvents: ignored.length,
        recorded,
        appliedLogLines: sumOver(logs.applied, handled),
        duplicateLogLines: sumOver(logs.duplicate, handled),
        subscriptions,
        emails,
      },
    };
  } finally {
    db.close();
  }
}

/** The counts of the given events only (the log also holds the warm-up's). */
function sumOver(counts: Map<string, number>, events: Stripe.Event[]): number {
  return events.reduce((total, event) => total + (counts.get(event.id) ?? 0), 0);
}

/** The burst's events as Stripe's API lists them. */
async function eventsOf(stripe: Stripe, ids: string[]): Promise<Stripe.Event[]> {
  const wanted = new Set(ids);
  const found: Stripe.Event[] = [];
  await stripe.events.list({ limit: 100 }).autoPagingEach((event) => {
    if (wanted.has(event.id)) found.push(event);
  });
  return found;
}

function checkRecorded(
  db: Database.Database,
  handled: Stripe.Event[],
  ignored: Stripe.Event[],
  problems: string[],
): number {
  const rows = db.prepare("SELECT id, type FROM stripe_event").all() as {
    id: string;
    type: string;
  }[];
  const recorded = new Map(rows.map((row) => [row.id, row.type]));
  const missing = handled.filter((event) => recorded.get(event.id) !== event.type);
  if (missing.length > 0) {
    problems.push(
      `${missing.length} handled events not recorded, e.g. ${missing[0]?.id}`,
    );
  }
  const stray = ignored.filter((event) => recorded.has(event.id));
  if (stray.length > 0) problems.push(`${stray.length} ignored events were recorded`);
  return handled.length - missing.length;
}

function checkLogs(
  target: BurstTarget,
  handled: Stripe.Event[],
  ignored: Stripe.Event[],
  problems: string[],
) {
  const logs = webhookLogCounts(target.serverOutput());
  const notOnce = handled.filter((event) => logs.applied.get(event.id) !== 1);
  for (const event of notOnce.slice(0, 5)) {
    const times = logs.applied.get(event.id) ?? 0;
    problems.push(`${event.id} ${event.type} was applied ${times} times`);
  }
  const appliedIgnored = ignored.filter((event) => logs.applied.has(event.id));
  if (appliedIgnored.length > 0) {
    problems.push(`${appliedIgnored.length} ignored events were applied`);
  }
  return logs;
}

interface StoredSubscriptionRow {
  id: string;
  customer_id: string;
  status: string;
  tier: string;
  price_id: string | null;
  cancel_at_period_end: number;
  user_id: string;
}

/** Every subscription Stripe holds is stored with its status, tier and price. */
async function checkSubscriptions(
  stripe: Stripe,
  db: Database.Database,
  problems: string[],
): Promise<number> {
  const tierOfPrice = await pricesToTiers(stripe);
  const inStripe = await stripe.subscriptions
    .list({ status: "all", limit: 100 })
    .autoPagingToArray({ limit: 10_000 });
  const rows = db.prepare("SELECT * FROM subscription").all() as StoredSubscriptionRow[];
  const stored = new Map(rows.map((row) => [row.id, row]));
  if (rows.length !== inStripe.length) {
    problems.push(`${rows.length} subscriptions stored, Stripe holds ${inStripe.length}`);
  }

  for (const sub of inStripe) {
    const price = sub.items.data[0]?.price.id ?? "";
    const expected = {
      customer_id: String(sub.customer),
      status: sub.status,
      tier: tierOfPrice.get(price),
      price_id: price,
      cancel_at_period_end: sub.cancel_at_period_end ? 1 : 0,
      user_id: sub.metadata.user_id,
    };
    const row = stored.get(sub.id);
    const actual = row && {
      customer_id: row.customer_id,
      status: row.status,
      tier: row.tier,
      price_id: row.price_id,
      cancel_at_period_end: row.cancel_at_period_end,
      user_id: row.user_id,
    };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(
        `${sub.id}: stored ${JSON.stringify(actual)}, Stripe ${JSON.stringify(expected)}`,
      );
    }
  }
  return inStripe.length;
}

async function pricesToTiers(stripe: Stripe): Promise<Map<string, string | undefined>> {
  const prices = await stripe.prices
    .list({ expand: ["data.product"], limit: 100 })
    .autoPagingToArray({ limit: 1000 });
  return new Map(
    prices.map((price) => [price.id, (price.product as Stripe.Product).metadata?.tier]),
  );
}

/** Each reader got one welcome, and one email for the change they made. */
function checkEmails(db: Database.Database, seeded: Seeded, problems: string[]): number {
  const rows = db
    .prepare("SELECT to_address, template FROM outbox ORDER BY id")
    .all() as { to_address: string; template: string }[];
  const expected: string[] = [];
  for (const { email, change } of seeded.readers.values()) {
    expected.push(`${email} subscription-started`);
    const extra = EMAIL_OF_CHANGE[change];
    if (extra) expected.push(`${email} ${extra}`);
  }
  const actual = rows.map((row) => `${row.to_address} ${row.template}`);
  const missing = difference(expected, actual);
  const extra = difference(actual, expected);
  if (missing.length > 0)
    problems.push(`emails missing: ${missing.slice(0, 5).join(", ")}`);
  if (extra.length > 0)
    problems.push(`emails not called for: ${extra.slice(0, 5).join(", ")}`);
  return rows.length;
}

/** The items of `a` that `b` lacks, counting repeats. */
function difference(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const item of b) left.set(item, (left.get(item) ?? 0) + 1);
  return a.filter((item) => {
    const count = left.get(item) ?? 0;
    left.set(item, count - 1);
    return count <= 0;
  });
}
