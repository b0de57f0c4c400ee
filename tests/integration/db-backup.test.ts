import { execFile } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { accountsFor, newAddress, PASSWORD } from "../helpers/accounts.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * `npm run db:backup` against the database of a running server that keeps
 * signing readers up while the copy is taken.
 */

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let stack: Stack;
let folder: string;

beforeAll(async () => {
  stack = await startStack({ env: { TRUST_PROXY: "1" } });
  folder = mkdtempSync(join(tmpdir(), "tierwall-backup-"));
});

afterAll(async () => {
  await stack?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function backup(args: string[], databasePath = stack.databasePath): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/db-backup.ts", ...args],
      // A backup that hangs is killed rather than left running after the test.
      {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_PATH: databasePath },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let clients = 0;

async function signUp(email: string): Promise<number> {
  const response = await fetch(`${stack.baseUrl}/api/auth/signup`, {
    method: "POST",
    headers: {
      origin: stack.baseUrl,
      accept: "application/json",
      "content-type": "application/json",
      "x-forwarded-for": `198.51.100.${++clients % 250}`,
    },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  return response.status;
}

/** Temporary files a backup left in the folder, whichever process wrote them. */
function partialFiles(): string[] {
  return readdirSync(folder).filter((name) => name.includes(".partial-"));
}

function emailsIn(path: string): Set<string> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT email FROM user").pluck().all() as string[];
    return new Set(rows);
  } finally {
    db.close();
  }
}

/** Signs readers up one after another until `stop()`; returns who got in. */
function keepSigningUp(): { stop(): Promise<string[]> } {
  const done: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const email = newAddress("backup");
      if ((await signUp(email)) === 201) done.push(email);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return done;
    },
  };
}

describe("npm run db:backup", () => {
  it("copies a running server's database with every reader signed up before it began", async () => {
    const before = [newAddress("backup"), newAddress("backup")];
    for (const email of before) expect(await signUp(email)).toBe(201);
    const writes = keepSigningUp();
    const target = join(folder, "copy.db");

    const run = await backup(["--to", target]);
    const during = await writes.stop();

    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^backed up .+ to .+copy\.db \(\d+\.\d MB\)\n/);
    expect(during.length).toBeGreaterThan(0);
    const copied = emailsIn(target);
    for (const email of before) expect(copied.has(email)).toBe(true);

    const copy = new Database(target, { readonly: true });
    expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(copy.pragma("journal_mode", { simple: true })).toBe("delete");
    copy.close();
    expect(existsSync(`${target}-wal`)).toBe(false);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it("copies the server's feed key beside the copy, readable by its owner only", async () => {
    // A reader asking for their feed address makes the server create its key.
    const reader = await accountsFor(stack).signUp();
    const feed = await fetch(`${stack.baseUrl}/api/feed`, {
      headers: { accept: "application/json", cookie: reader.cookie },
    });
    expect(feed.status).toBe(200);
    const key = join(dirname(stack.databasePath), "feed-token.key");
    const target = join(folder, "with-key.db");

    const run = await backup(["--to", target]);

    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")[1]).toBe(
      `backed up the feed key ${key} to ${target}.feed-token.key`,
    );
    expect(readFileSync(`${target}.feed-token.key`, "utf8")).toBe(
      readFileSync(key, "utf8"),
    );
    expect(statSync(`${target}.feed-token.key`).mode & 0o777).toBe(0o600);
    expect(partialFiles()).toEqual([]);
  });

  it("replaces last night's copy only with a complete one", async () => {
    const target = join(folder, "nightly.db");
    writeFileSync(target, "last night's copy");

    // A backup that fails once its temporary file is made (the source is no
    // database) leaves last night's copy as it was, and no temporary file.
    const broken = join(folder, "broken.db");
    writeFileSync(
      broken,
      "not a database, though long enough to be read as one\n".repeat(100),
    );
    const failed = await backup(["--to", target], broken);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/not a database/);
    expect(readFileSync(target, "utf8")).toBe("last night's copy");
    expect(partialFiles()).toEqual([]);

    const run = await backup(["--to", target]);
    expect(run.code).toBe(0);
    expect(emailsIn(target).size).toBeGreaterThan(0);
    expect(partialFiles()).toEqual([]);
  });

  it("refuses to write over the database itself, into a missing folder, or from none", async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [["--to", stack.databasePath], undefined, /names the database itself/],
      [["--to", join(folder, "no/such/dir/x.db")], undefined, /does not exist/],
      [["--to", join(folder, "x.db")], join(folder, "missing.db"), /no database at/],
      [
        ["--to", join(folder, "x.db"), "--verbose"],
        undefined,
        /unknown option --verbose/,
      ],
    ];
    for (const [args, databasePath, message] of cases) {
      const run = await backup(args, databasePath);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(existsSync(join(folder, "x.db"))).toBe(false);
    expect(existsSync(join(folder, "missing.db"))).toBe(false);
  });
});
