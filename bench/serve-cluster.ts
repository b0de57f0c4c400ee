import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import Database from "better-sqlite3";
import { type LoadOptions, type Measurement, measureTarget } from "./serve-load.ts";
import type { RunningServer } from "./serve-setup.ts";

/**
 * The row "gated, entitled, 2 workers, with writes": the server under the
 * cluster launcher (`npm run start:cluster`), two worker processes on one
 * SQLite file, loaded like the single process while readers sign up through
 * it all along. Every sign-up writes a reader, a session, a verification
 * link, an outbox row and a rate-limit count, and empties both workers'
 * session caches. Afterwards the database and the log are the witnesses: every
 * sign-up that was answered 201 is stored with its session, no answer was a
 * 5xx, and no process ever logged SQLite's "database is locked".
 */

export const CLUSTER_WORKERS = 2;
export const CLUSTER_ROW = `gated, entitled, ${CLUSTER_WORKERS} workers, with writes`;

/** Sign-ups in flight at once while the page is loaded. */
const WRITERS = 2;
const PASSWORD = "bench password, long enough";

export interface ClusterContext {
  server: RunningServer;
  logPath: string;
  databasePath: string;
  gatedPath: string;
  cookies: readonly string[];
}

export interface ClusterWrites {
  attempted: number;
  stored: number;
  /** Answered 201 but missing from the database, or stored without a session. */
  lost: number;
  /** Sign-ups answered with a 5xx, or not answered at all. */
  failed: number;
  /** Log lines that mention SQLITE_BUSY or a locked database. */
  busyInLog: number;
  perSecond: number;
}

export interface ClusterResult {
  row: Measurement;
  writes: ClusterWrites;
}

export async function measureCluster(
  context: ClusterContext,
  load: LoadOptions,
): Promise<ClusterResult> {
  const target = {
    name: CLUSTER_ROW,
    baseUrl: context.server.url,
    path: context.gatedPath,
    cookies: context.cookies,
  };
  const writer = startSignUps(context.server.url);
  const started = performance.now();
  const row = await measureTarget(target, load);
  const answers = await writer.stop();
  const seconds = (performance.now() - started) / 1000;
  const writes = await checkWrites(context, answers, seconds);
  return { row, writes };
}

interface SignUpAnswer {
  email: string;
  status: number;
}

/** Readers signing up, WRITERS at a time, each from an address of its own. */
function startSignUps(baseUrl: string): { stop(): Promise<SignUpAnswer[]> } {
  const answers: SignUpAnswer[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) answers.push(await signUp(baseUrl));
  };
  const loops = Array.from({ length: WRITERS }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

async function signUp(baseUrl: string): Promise<SignUpAnswer> {
  const email = `bench-${randomUUID()}@example.com`;
  try {
    const response = await fetch(`${baseUrl}/api/auth/signup`, {
      method: "POST",
      headers: {
        origin: baseUrl,
        accept: "application/json",
        "content-type": "application/json",
        // One client per sign-up, so the per-client limit never answers 429.
        "x-forwarded-for": randomClient(),
      },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    await response.arrayBuffer();
    return { email, status: response.status };
  } catch {
    return { email, status: 0 };
  }
}

function randomClient(): string {
  const byte = () => Math.floor(Math.random() * 254) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}

async function checkWrites(
  context: ClusterContext,
  answers: readonly SignUpAnswer[],
  seconds: number,
): Promise<ClusterWrites> {
  const created = answers.filter((answer) => answer.status === 201);
  const lost = countLost(context.databasePath, created);
  const log = await readFile(context.logPath, "utf8");
  return {
    attempted: answers.length,
    stored: created.length - lost,
    lost,
    failed: answers.filter((answer) => answer.status === 0 || answer.status >= 500)
      .length,
    busyInLog: (log.match(/SQLITE_BUSY|database is locked/g) ?? []).length,
    perSecond: Number((answers.length / seconds).toFixed(1)),
  };
}

/** Sign-ups answered 201 whose reader, or whose session, the database lacks. */
function countLost(databasePath: string, created: readonly SignUpAnswer[]): number {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const stored = db.prepare(
      `SELECT count(*) AS n FROM user u JOIN session s ON s.user_id = u.id
       WHERE u.email = ?`,
    );
    return created.filter((answer) => (stored.get(answer.email) as { n: number }).n === 0)
      .length;
  } finally {
    db.close();
  }
}
