import { z } from "zod";
import type { Complimentary } from "../../lib/access.ts";
import type { Tier } from "../../lib/config.ts";
import { isPaidTier, tierName } from "../../lib/tiers.ts";
import { type Db, prepared } from "../db/database.ts";

/**
 * Complimentary access: a paid tier an operator gives a reader without Stripe
 * (a contributor, a reviewer, a refund made good). It counts like a paid
 * subscription towards the reader's effective tier until its end date passes,
 * and is never sent to Stripe. Each reader holds at most one grant.
 */

export interface ComplimentaryGrant extends Complimentary {
  userId: string;
  email: string;
  note: string | null;
  /** Unix seconds. */
  grantedAt: number;
}

export type UntilParse =
  | { kind: "ok"; until: number | null }
  | { kind: "malformed"; text: string }
  /** Written YYYY-MM-DD, but no such day: 2027-02-30. */
  | { kind: "no-such-day"; text: string }
  | { kind: "past"; text: string };

export type GrantOutcome =
  | { kind: "granted"; grant: ComplimentaryGrant; replaced: ComplimentaryGrant | null }
  | { kind: "unknown-reader"; email: string }
  | { kind: "not-a-paid-tier"; tier: string; paidTiers: Tier[] };

export type RevokeOutcome =
  | { kind: "revoked"; grant: ComplimentaryGrant }
  | { kind: "no-grant"; email: string }
  | { kind: "unknown-reader"; email: string };

interface GrantRow {
  user_id: string;
  email: string;
  tier: string;
  until: number | null;
  note: string | null;
  granted_at: number;
}

const isoDay = z.iso.date();

/**
 * `--until 2027-01-31` means through the end of 31 January 2027, UTC: the
 * grant's last second is 23:59:59 that day. A day already over is refused.
 */
export function parseUntil(
  text: string | undefined,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): UntilParse {
  if (text === undefined) return { kind: "ok", until: null };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return { kind: "malformed", text };
  if (!isoDay.safeParse(text).success) return { kind: "no-such-day", text };

  const [year, month, day] = text.split("-").map(Number) as [number, number, number];
  const until = Date.UTC(year, month - 1, day, 23, 59, 59) / 1000;
  return until <= nowSeconds ? { kind: "past", text } : { kind: "ok", until };
}

export function grantComplimentary(
  db: Db,
  tiers: readonly Tier[],
  request: { email: string; tier: string; until: number | null; note?: string },
  nowSeconds: number = Math.floor(Date.now() / 1000),
): GrantOutcome {
  if (!isPaidTier(tiers, request.tier)) {
    return { kind: "not-a-paid-tier", tier: request.tier, paidTiers: paidTiers(tiers) };
  }
  const user = findReader(db, request.email);
  if (!user) return { kind: "unknown-reader", email: request.email };

  return db
    .transaction((): GrantOutcome => {
      const replaced = readGrant(db, user.id);
      db.prepare(
        `INSERT INTO complimentary_access (user_id, tier, until, note, granted_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET
         tier = excluded.tier, until = excluded.until,
         note = excluded.note, granted_at = excluded.granted_at`,
      ).run(user.id, request.tier, request.until, request.note ?? null, nowSeconds);
      const grant = readGrant(db, user.id);
      if (!grant) throw new Error(`the grant for user ${user.id} was not stored`);
      return { kind: "granted", grant, replaced };
    })
    .immediate();
}

export function revokeComplimentary(db: Db, email: string): RevokeOutcome {
  const user = findReader(db, email);
  if (!user) return { kind: "unknown-reader", email };

  const grant = readGrant(db, user.id);
  if (!grant) return { kind: "no-grant", email: user.email };
  db.prepare("DELETE FROM complimentary_access WHERE user_id = ?").run(user.id);
  return { kind: "revoked", grant };
}

/** Every grant, expired ones included, the newest first. */
export function listComplimentary(db: Db): ComplimentaryGrant[] {
  const rows = db
    .prepare(`${selectGrants} ORDER BY c.granted_at DESC, u.email`)
    .all() as GrantRow[];
  return rows.map(toGrant);
}

/** The reader's grant while it still gives access, else null. */
export function readActiveComplimentary(
  db: Db,
  userId: string,
  nowSeconds: number,
): Complimentary | null {
  const row = prepared(
    db,
    "SELECT tier, until FROM complimentary_access WHERE user_id = ?",
  ).get(userId) as { tier: string; until: number | null } | undefined;
  if (!row || (row.until !== null && row.until <= nowSeconds)) return null;
  return { tier: row.tier, until: row.until };
}

export function isExpired(grant: Complimentary, nowSeconds: number): boolean {
  return grant.until !== null && grant.until <= nowSeconds;
}

/** "Core Stacker until 31 January 2027", or "Core Stacker, no end date". */
export function describeGrant(tiers: readonly Tier[], grant: Complimentary): string {
  const name = tierName(tiers, grant.tier);
  if (grant.until === null) return `${name}, no end date`;
  return `${name} until ${formatDay(grant.until)}`;
}

/** A day as readers write it, in UTC, where grants end. */
export function formatDay(unixSeconds: number): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" }).format(
    new Date(unixSeconds * 1000),
  );
}

export function paidTiers(tiers: readonly Tier[]): Tier[] {
  return tiers.filter((tier) => isPaidTier(tiers, tier.id));
}

const selectGrants = `SELECT c.user_id, u.email, c.tier, c.until, c.note, c.granted_at
  FROM complimentary_access c JOIN user u ON u.id = c.user_id`;

function readGrant(db: Db, userId: string): ComplimentaryGrant | null {
  const row = db.prepare(`${selectGrants} WHERE c.user_id = ?`).get(userId) as
    | GrantRow
    | undefined;
  return row ? toGrant(row) : null;
}

function findReader(db: Db, email: string): { id: string; email: string } | null {
  const row = db
    .prepare("SELECT id, email FROM user WHERE email = ?")
    .get(email.trim()) as { id: string; email: string } | undefined;
  return row ?? null;
}

function toGrant(row: GrantRow): ComplimentaryGrant {
  return {
    userId: row.user_id,
    email: row.email,
    tier: row.tier,
    until: row.until,
    note: row.note,
    grantedAt: row.granted_at,
  };
}
