import type { Db } from "../db/database.ts";
import { countReaderSessions } from "./sessions.ts";

/**
 * "Download my data": everything Tierwall stores about a reader, in a form
 * they can read. Secrets are left out: no password hash, no hash of a feed
 * address or of an emailed link.
 */

export interface AccountExport {
  exportedAt: string;
  profile: {
    id: string;
    email: string;
    emailVerified: boolean;
    createdAt: string;
    stripeCustomerId: string | null;
  };
  subscriptions: {
    id: string;
    status: string;
    tier: string;
    interval: string | null;
    currentPeriodEnd: string | null;
    cancelAt: string | null;
    cancelAtPeriodEnd: boolean;
    createdAt: string;
  }[];
  complimentaryAccess: {
    tier: string;
    until: string | null;
    note: string | null;
    grantedAt: string;
  } | null;
  sessions: { count: number };
  privateFeed: { createdAt: string } | null;
}

interface ProfileRow {
  id: string;
  email: string;
  email_verified: number;
  created_at: number;
  stripe_customer_id: string | null;
}

interface SubscriptionRow {
  id: string;
  status: string;
  tier: string;
  billing_interval: string | null;
  current_period_end: number | null;
  cancel_at: number | null;
  cancel_at_period_end: number;
  stripe_created: number;
}

interface GrantRow {
  tier: string;
  until: number | null;
  note: string | null;
  granted_at: number;
}

export function exportAccount(
  db: Db,
  readerId: string,
  nowSeconds: number,
): AccountExport | null {
  const profile = db
    .prepare(
      `SELECT id, email, email_verified, created_at, stripe_customer_id
         FROM user WHERE id = ?`,
    )
    .get(readerId) as ProfileRow | undefined;
  if (!profile) return null;

  return {
    exportedAt: iso(nowSeconds),
    profile: {
      id: profile.id,
      email: profile.email,
      emailVerified: profile.email_verified === 1,
      createdAt: iso(profile.created_at),
      stripeCustomerId: profile.stripe_customer_id,
    },
    subscriptions: readSubscriptions(db, readerId),
    complimentaryAccess: readGrant(db, readerId),
    sessions: { count: countReaderSessions(db, readerId, nowSeconds) },
    privateFeed: readFeed(db, readerId),
  };
}

function readSubscriptions(db: Db, readerId: string): AccountExport["subscriptions"] {
  const rows = db
    .prepare(
      `SELECT id, status, tier, billing_interval, current_period_end, cancel_at,
              cancel_at_period_end, stripe_created
         FROM subscription WHERE user_id = ? ORDER BY stripe_created`,
    )
    .all(readerId) as SubscriptionRow[];
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    tier: row.tier,
    interval: row.billing_interval,
    currentPeriodEnd: isoOrNull(row.current_period_end),
    cancelAt: isoOrNull(row.cancel_at),
    cancelAtPeriodEnd: row.cancel_at_period_end === 1,
    createdAt: iso(row.stripe_created),
  }));
}

function readGrant(db: Db, readerId: string): AccountExport["complimentaryAccess"] {
  const row = db
    .prepare(
      "SELECT tier, until, note, granted_at FROM complimentary_access WHERE user_id = ?",
    )
    .get(readerId) as GrantRow | undefined;
  if (!row) return null;
  return {
    tier: row.tier,
    until: isoOrNull(row.until),
    note: row.note,
    grantedAt: iso(row.granted_at),
  };
}

function readFeed(db: Db, readerId: string): AccountExport["privateFeed"] {
  const row = db
    .prepare("SELECT created_at FROM feed_token WHERE user_id = ?")
    .get(readerId) as { created_at: number } | undefined;
  return row ? { createdAt: iso(row.created_at) } : null;
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

function isoOrNull(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : iso(unixSeconds);
}
