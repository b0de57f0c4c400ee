import {
  accessSync,
  constants,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import Database from "better-sqlite3";
import { defineCommand, runMain } from "citty";
import { FEED_KEY_FILE } from "../server/feeds/feed-key.ts";
import {
  OperatorError,
  operatorRun,
  rejectUnknownArgs,
  requireDatabaseFile,
} from "./operator.ts";

/**
 * `npm run db:backup -- --to <file>`: a consistent copy of the database at
 * DATABASE_PATH, taken with SQLite's online backup API while the server keeps
 * running. The copy is one self-contained file (rollback journal mode, no
 * write-ahead log beside it) that holds every transaction committed before
 * the backup began; the server's writes go on meanwhile.
 *
 * The copy is written beside the target under a temporary name and renamed
 * into place once checked, so an interrupted backup never leaves a half file
 * where the last good one should be, and a target that exists (last night's
 * copy) is replaced only by a complete one.
 *
 * Without FEED_TOKEN_SECRET the server keeps its feed key in `feed-token.key`
 * beside the database, and every reader's feed address is derived from it: a
 * database restored without it gives every reader a new address. So when that
 * file exists it is copied too, the same way, to `<copy>.feed-token.key`.
 */

interface BackupContext {
  args: { to?: string };
  rawArgs: string[];
}

export interface BackupResult {
  target: string;
  pages: number;
  bytes: number;
  /** Where the feed key was copied to; none when the server has no key file. */
  feedKey?: { source: string; target: string };
}

export async function backupDatabase(
  source: string,
  target: string,
): Promise<BackupResult> {
  checkTarget(source, target);
  const partial = `${target}.partial-${process.pid}`;
  try {
    const pages = await copyDatabase(source, partial);
    checkCopy(partial);
    renameSync(partial, target);
    const feedKey = backupFeedKey(source, target);
    return { target, pages, bytes: statSync(target).size, feedKey };
  } finally {
    rmSync(partial, { force: true });
  }
}

function backupFeedKey(source: string, target: string): BackupResult["feedKey"] {
  const keySource = join(dirname(source), FEED_KEY_FILE);
  if (!existsSync(keySource)) return undefined;

  const keyTarget = `${target}.${FEED_KEY_FILE}`;
  const partial = `${keyTarget}.partial-${process.pid}`;
  try {
    // The key turns a copy's seeds into readers' feed addresses: owner only.
    writeFileSync(partial, readFileSync(keySource), { flag: "wx", mode: 0o600 });
    renameSync(partial, keyTarget);
    return { source: keySource, target: keyTarget };
  } finally {
    rmSync(partial, { force: true });
  }
}

function checkTarget(source: string, target: string): void {
  if (target === source) {
    throw new OperatorError("--to names the database itself; give another file.");
  }
  const folder = dirname(target);
  if (!existsSync(folder)) {
    throw new OperatorError(`The folder ${folder} does not exist; create it first.`);
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new OperatorError(`Cannot write to ${folder}: check its permissions.`);
  }
}

/** The largest step better-sqlite3 accepts: more pages than any database holds. */
const ALL_PAGES = 0x7fff_ffff;

/**
 * Copies every page in one step: the copy is then one snapshot, read while
 * the server's writers carry on (a reader never blocks them in WAL mode).
 * Copied in small steps instead, a copy would start over each time the
 * server wrote, and might never finish on a busy server.
 */
async function copyDatabase(source: string, partial: string): Promise<number> {
  // The copy holds password hashes and sessions: only its owner may read it.
  writeFileSync(partial, "", { mode: 0o600 });
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // The callback returns how many pages the next step copies: all of them.
    // (better-sqlite3 reads 0 as "none", and would then step forever.)
    const { totalPages } = await db.backup(partial, { progress: () => ALL_PAGES });
    return totalPages;
  } finally {
    db.close();
  }
}

/** The copy must pass SQLite's own check; it is left in rollback journal mode. */
function checkCopy(partial: string): void {
  const copy = new Database(partial, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
    const verdict = copy.pragma("quick_check", { simple: true });
    if (verdict !== "ok") {
      throw new OperatorError(`The copy failed SQLite's check: ${String(verdict)}`);
    }
  } finally {
    copy.close();
  }
}

const main = defineCommand({
  meta: {
    name: "db:backup",
    description: "Copy the database at DATABASE_PATH while the server runs",
  },
  args: {
    to: { type: "string", description: "The file to write the copy to", required: true },
  },
  run: operatorRun(async ({ args, rawArgs }: BackupContext) => {
    rejectUnknownArgs(rawArgs, { options: ["to", "help"], positionals: 0 });
    if (!args.to) throw new OperatorError("Give the file to write: --to <file>");
    const source = requireDatabaseFile();
    const result = await backupDatabase(source, resolve(args.to));
    const megabytes = (result.bytes / 1024 / 1024).toFixed(1);
    console.log(`backed up ${source} to ${result.target} (${megabytes} MB)`);
    if (result.feedKey) {
      const { source: keySource, target: keyTarget } = result.feedKey;
      console.log(`backed up the feed key ${keySource} to ${keyTarget}`);
    }
  }),
});

void runMain(main);
