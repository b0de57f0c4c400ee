import { defineCommand, runMain } from "citty";
import {
  describeGrant,
  formatDay,
  grantComplimentary,
  isExpired,
  listComplimentary,
  paidTiers,
  parseUntil,
  revokeComplimentary,
} from "../server/billing/complimentary.ts";
import { closeDb, useDb } from "../server/db/database.ts";
import tierwall from "../tierwall.config.ts";
import { operatorRun, rejectUnknownArgs, requireDatabaseFile } from "./operator.ts";

/**
 * `npm run access -- grant|revoke|list`: complimentary access, a paid tier given
 * to a reader without Stripe, in the database at DATABASE_PATH. The server sees
 * a change at the reader's next request.
 */

interface GrantContext {
  args: { email: string; tier: string; until?: string; note?: string };
  rawArgs: string[];
}

interface RevokeContext {
  args: { email: string };
  rawArgs: string[];
}

/** Prints the problem and marks the run failed. */
function fail(message: string): void {
  console.error(message);
  process.exitCode = 1;
}

function withDb<T>(work: (db: ReturnType<typeof useDb>) => T): T {
  requireDatabaseFile();
  try {
    return work(useDb());
  } finally {
    closeDb();
  }
}

function paidTierList(): string {
  return paidTiers(tierwall.tiers)
    .map((tier) => `${tier.id} (${tier.name})`)
    .join(", ");
}

const grant = defineCommand({
  meta: { name: "grant", description: "Give a reader a paid tier without Stripe" },
  args: {
    email: { type: "positional", description: "The reader's email", required: true },
    tier: { type: "positional", description: "A paid tier id", required: true },
    until: {
      type: "string",
      description: "Last day of access, YYYY-MM-DD (through its end, UTC)",
    },
    note: { type: "string", description: "Why, for the next operator" },
  },
  run: operatorRun(({ args, rawArgs }: GrantContext) => {
    rejectUnknownArgs(rawArgs, { options: ["until", "note", "help"], positionals: 2 });
    const until = parseUntil(args.until);
    if (until.kind === "malformed") {
      return fail(`--until must be a date written YYYY-MM-DD, got "${until.text}".`);
    }
    if (until.kind === "no-such-day") {
      return fail(`--until ${until.text} is not a day of the calendar.`);
    }
    if (until.kind === "past") {
      return fail(`--until ${until.text} is already over; give today or a later day.`);
    }

    const request = {
      email: args.email,
      tier: args.tier,
      until: until.until,
      note: args.note,
    };
    const outcome = withDb((db) => grantComplimentary(db, tierwall.tiers, request));
    if (outcome.kind === "not-a-paid-tier") {
      return fail(`"${outcome.tier}" is not a paid tier. Paid tiers: ${paidTierList()}.`);
    }
    if (outcome.kind === "unknown-reader") {
      return fail(`No reader has the email ${outcome.email}. They must sign up first.`);
    }

    const { grant: stored, replaced } = outcome;
    const replacing = replaced
      ? ` (replaces ${describeGrant(tierwall.tiers, replaced)})`
      : "";
    console.log(
      `Granted ${stored.email} complimentary ${describeGrant(tierwall.tiers, stored)}${replacing}.`,
    );
  }),
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "End a reader's complimentary access now" },
  args: {
    email: { type: "positional", description: "The reader's email", required: true },
  },
  run: operatorRun(({ args, rawArgs }: RevokeContext) => {
    rejectUnknownArgs(rawArgs, { options: ["help"], positionals: 1 });
    const outcome = withDb((db) => revokeComplimentary(db, args.email));
    if (outcome.kind === "unknown-reader") {
      return fail(`No reader has the email ${outcome.email}.`);
    }
    if (outcome.kind === "no-grant") {
      console.log(`${outcome.email} has no complimentary access; nothing changed.`);
      return;
    }
    const { grant: revoked } = outcome;
    console.log(
      `Revoked ${revoked.email}'s complimentary ${describeGrant(tierwall.tiers, revoked)}.`,
    );
  }),
});

const list = defineCommand({
  meta: { name: "list", description: "List complimentary access, expired included" },
  run: operatorRun(({ rawArgs }: { rawArgs: string[] }) => {
    rejectUnknownArgs(rawArgs, { options: ["help"], positionals: 0 });
    const grants = withDb((db) => listComplimentary(db));
    if (grants.length === 0) {
      console.log("No reader has complimentary access.");
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    for (const entry of grants) {
      const state = isExpired(entry, now) ? " [expired]" : "";
      const note = entry.note ? ` — ${entry.note}` : "";
      const granted = `granted ${formatDay(entry.grantedAt)}`;
      console.log(
        `${entry.email}: ${describeGrant(tierwall.tiers, entry)}${state}, ${granted}${note}`,
      );
    }
  }),
});

const main = defineCommand({
  meta: { name: "access", description: "Complimentary access without Stripe" },
  subCommands: { grant, revoke, list },
});

void runMain(main);
