import type Stripe from "stripe";
import tierwall from "../../tierwall.config.ts";
import type { Db } from "../db/database.ts";
import { maskEmail } from "../log.ts";
import { alignCustomerEmail } from "./customers.ts";
import { readEntitlement } from "./entitlements.ts";
import { type SyncResult, syncCustomerSubscriptions } from "./sync.ts";

/**
 * `npm run stripe:sync`: brings every stored subscription back in line with
 * Stripe, for when webhooks were lost (an outage longer than Stripe's three
 * days of retries, an endpoint that was disabled, a restored backup). It syncs
 * each customer that matters: every reader's billing account, and every
 * customer Stripe lists subscriptions for, since a reader may have paid before
 * their account was linked. One customer failing does not stop the others.
 */

export interface TierChange {
  /** Masked, as in the server's logs. */
  email: string;
  from: string;
  to: string;
}

export interface RepairFailure {
  /** "customer cus_…", or "the subscription list" when Stripe's list failed. */
  what: string;
  message: string;
}

export interface RepairReport {
  customersChecked: number;
  /** Customers whose subscriptions belong to no reader. */
  unknownCustomers: number;
  tierChanges: TierChange[];
  failures: RepairFailure[];
}

export type CustomerSync = (customerId: string, db: Db) => Promise<SyncResult>;

export async function repairSubscriptions(
  stripe: Stripe,
  db: Db,
  sync: CustomerSync = syncCustomerSubscriptions,
): Promise<RepairReport> {
  const failures: RepairFailure[] = [];
  const tiersBefore = readTiers(db);

  const customers = new Set(readLinkedCustomers(db));
  try {
    for (const id of await listSubscribedCustomers(stripe)) customers.add(id);
  } catch (error) {
    failures.push({ what: "the subscription list", message: describeError(error) });
  }

  let unknownCustomers = 0;
  for (const customerId of customers) {
    try {
      const result = await sync(customerId, db);
      if (result.kind === "unknown-customer") unknownCustomers++;
    } catch (error) {
      failures.push({ what: `customer ${customerId}`, message: describeError(error) });
    }
  }

  const tierChanges = compareTiers(tiersBefore, readTiers(db));
  return { customersChecked: customers.size, unknownCustomers, tierChanges, failures };
}

export interface EmailRepairReport {
  /** Customers whose email Stripe held differently from the reader's address. */
  emailsFixed: number;
  failures: RepairFailure[];
}

/**
 * Brings the email of every reader's customer in line with the reader's
 * address: a move confirmed while Stripe was down never reached it. Each
 * address is read just before its customer is checked, so a move confirmed
 * meanwhile is not undone.
 */
export async function repairCustomerEmails(
  stripe: Stripe,
  db: Db,
): Promise<EmailRepairReport> {
  const readEmail = db.prepare("SELECT email FROM user WHERE stripe_customer_id = ?");
  const failures: RepairFailure[] = [];
  let emailsFixed = 0;

  for (const customerId of readLinkedCustomers(db)) {
    const row = readEmail.get(customerId) as { email: string } | undefined;
    if (!row) continue;
    try {
      if (await alignCustomerEmail(stripe, customerId, row.email)) emailsFixed++;
    } catch (error) {
      failures.push({
        what: `customer ${customerId}'s email`,
        message: describeError(error),
      });
    }
  }
  return { emailsFixed, failures };
}

/** Every customer id a reader's account is linked to. */
export function readLinkedCustomers(db: Db): string[] {
  const rows = db
    .prepare("SELECT stripe_customer_id FROM user WHERE stripe_customer_id IS NOT NULL")
    .all() as { stripe_customer_id: string }[];
  return rows.map((row) => row.stripe_customer_id);
}

/** The customers of every subscription in the account, whatever its status. */
async function listSubscribedCustomers(stripe: Stripe): Promise<Set<string>> {
  const customers = new Set<string>();
  for await (const subscription of stripe.subscriptions.list({
    status: "all",
    limit: 100,
  })) {
    const { customer } = subscription;
    customers.add(typeof customer === "string" ? customer : customer.id);
  }
  return customers;
}

/** Each reader's effective tier, keyed by email. */
function readTiers(db: Db): Map<string, string> {
  const users = db.prepare("SELECT id, email FROM user").all() as {
    id: string;
    email: string;
  }[];
  return new Map(users.map((user) => [user.email, readEntitlement(db, user.id).tier]));
}

export function compareTiers(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): TierChange[] {
  const changes: TierChange[] = [];
  for (const [email, to] of after) {
    const from = before.get(email) ?? to;
    if (from !== to) changes.push({ email: maskEmail(email), from, to });
  }
  return changes;
}

/** "Core Stacker" for the report; the id when the config no longer lists it. */
export function tierLabel(tierId: string): string {
  return tierwall.tiers.find((tier) => tier.id === tierId)?.name ?? tierId;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
