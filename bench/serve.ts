import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { defineCommand, runMain } from "citty";
import { getRandomPort } from "get-port-please";
import { SESSION_COOKIE_NAME } from "../server/auth/lucia.ts";
import config from "../tierwall.config.ts";
import {
  CLUSTER_ROW,
  CLUSTER_WORKERS,
  type ClusterContext,
  type ClusterWrites,
  measureCluster,
} from "./serve-cluster.ts";
import { seedReaders } from "./serve-db.ts";
import { EDGE_ROW, type EdgeRow, prepareEdge } from "./serve-edge.ts";
import {
  type LoadOptions,
  type Measurement,
  measureTarget,
  readPeakRssMb,
  type Target,
} from "./serve-load.ts";
import { NGINX_WORKERS, renderStaticConfig, startNginx } from "./serve-nginx.ts";
import { evaluateTargets, printTable, printTargets, ROWS } from "./serve-report.ts";
import {
  type Builds,
  type Pages,
  pickPages,
  prepareBuilds,
  type RunningServer,
  startServer,
} from "./serve-setup.ts";

/**
 * `npm run bench:serve`: how fast the built server answers readers. It builds a
 * generated publication (5,000 posts) and the server, seeds 10,000 readers,
 * starts `node .output/server/index.mjs` as operators do, and loads it with
 * autocannon at each connection count: a public page, a gated page for an
 * entitled reader, the same page for an anonymous reader (its teaser) and
 * `/api/me`. nginx serving the same public file is the ceiling, and nginx as
 * the edge (scripts/edge-nginx.ts) serving the gated page is one more row, and
 * the gated page from two workers under the cluster launcher, while readers
 * sign up through them, is the last: it shows the shared database losing no
 * write and refusing no reader under that load.
 * Targets are reported, not asserted: the exit code is non-zero only when
 * answers fail so often that the numbers mean nothing.
 */

const ENTITLED_READERS = 100;
/** Above this share of failed answers in a row, its throughput is not a measurement. */
const MEANINGLESS_FAILURE_SHARE = 0.01;

function positiveInteger(value: string, flag: string): number {
  const number = Number(value);
  if (Number.isInteger(number) && number > 0) return number;
  throw new Error(`[bench] --${flag} must be a positive whole number, got "${value}"`);
}

function connectionCounts(value: string): number[] {
  return value.split(",").map((part) => positiveInteger(part.trim(), "connections"));
}

/** Fetches a route once and checks it answers what the load will measure. */
async function expectAnswer(
  label: string,
  url: string,
  check: (status: number, body: string) => string | null,
  cookie?: string,
): Promise<void> {
  const response = await fetch(url, { headers: cookie ? { cookie } : {} });
  const problem = check(response.status, await response.text());
  if (problem) throw new Error(`[bench] ${label} (${url}): ${problem}`);
}

function expectPage(bytes: number, full: boolean) {
  return (status: number, body: string): string | null => {
    if (status !== 200) return `answered ${status}`;
    const length = Buffer.byteLength(body);
    if (full === (length === bytes)) return null;
    return full ? `sent ${length} bytes, the file has ${bytes}` : "sent the full page";
  };
}

function expectTier(tier: string) {
  return (status: number, body: string): string | null => {
    const user = (JSON.parse(body) as { user?: { tier?: string } }).user;
    return status === 200 && user?.tier === tier ? null : `answered ${status} ${body}`;
  };
}

async function checkRoutes(scene: Scene): Promise<void> {
  const { server, pages } = scene;
  const cookie = scene.cookies[0];
  const publicPage = expectPage(pages.public.bytes, true);
  await expectAnswer("public page", `${server.url}${pages.public.path}`, publicPage);
  await expectAnswer("nginx", `${scene.nginxUrl}${pages.public.path}`, publicPage);
  const gated = `${server.url}${pages.gated.path}`;
  await expectAnswer("entitled", gated, expectPage(pages.gated.bytes, true), cookie);
  await expectAnswer("anonymous", gated, expectPage(pages.gated.bytes, false));
  await expectAnswer("/api/me", `${server.url}/api/me`, expectTier(scene.tier), cookie);
}

interface Scene {
  server: RunningServer;
  nginxUrl: string;
  nginxPid: number | undefined;
  pages: Pages;
  cookies: string[];
  tier: string;
}

function targetsOf(scene: Scene): Target[] {
  const { server, pages, cookies } = scene;
  const base = { baseUrl: server.url, pid: server.pid };
  const nginx = { baseUrl: scene.nginxUrl, pid: scene.nginxPid };
  return [
    { ...nginx, name: ROWS.nginx, path: pages.public.path },
    { ...base, name: ROWS.public, path: pages.public.path },
    { ...base, name: ROWS.gated, path: pages.gated.path, cookies },
    { ...base, name: ROWS.teaser, path: pages.gated.path },
    { ...base, name: ROWS.me, path: "/api/me", cookies },
  ];
}

async function measureRow(target: Target, load: LoadOptions): Promise<Measurement> {
  const row = await measureTarget(target, load);
  console.log(
    `[bench] ${row.name} at ${load.connections}: ` +
      `${row.requestsPerSecond} req/s, p99 ${row.p99Ms} ms`,
  );
  return row;
}

interface Measured {
  rows: Measurement[];
  /** The cluster's sign-ups at each connection count. */
  writes: (ClusterWrites & { connections: number })[];
}

async function measureAll(
  scene: Scene,
  connections: readonly number[],
  load: Omit<LoadOptions, "connections">,
  extra: { edge: EdgeRow; cluster: ClusterContext },
): Promise<Measured> {
  const measured: Measured = { rows: [], writes: [] };
  for (const count of connections) {
    const options = { ...load, connections: count };
    for (const target of targetsOf(scene)) {
      measured.rows.push(await measureRow(target, options));
    }
    if (extra.edge.kind === "ready") {
      const row = await extra.edge.measure(options);
      console.log(`[bench] ${row.name} at ${count}: ${row.requestsPerSecond} req/s`);
      measured.rows.push(row);
    }
    const { row, writes } = await measureCluster(extra.cluster, options);
    console.log(
      `[bench] ${row.name} at ${count}: ${row.requestsPerSecond} req/s, ` +
        `${writes.stored} sign-ups stored, ${writes.lost} lost, ${writes.failed} failed`,
    );
    measured.rows.push(row);
    measured.writes.push({ ...writes, connections: count });
  }
  return measured;
}

function meaningless(rows: readonly Measurement[]): Measurement[] {
  return rows.filter(
    (row) =>
      row.requests === 0 ||
      (row.errors + row.non2xx) / row.requests > MEANINGLESS_FAILURE_SHARE,
  );
}

function freePort(): Promise<number> {
  return getRandomPort("127.0.0.1");
}

async function seed(workDir: string, readers: number, tier: string) {
  const databasePath = path.join(workDir, "readers.db");
  for (const suffix of ["", "-wal", "-shm"]) {
    await rm(`${databasePath}${suffix}`, { force: true });
  }
  const seeded = await seedReaders({
    path: databasePath,
    readers,
    entitled: ENTITLED_READERS,
    tier,
  });
  const cookies = seeded.entitledSessions.map((id) => `${SESSION_COOKIE_NAME}=${id}`);
  console.log(
    `[bench] ${readers} readers, ${cookies.length} of them entitled (${tier}) and signed in`,
  );
  return { databasePath, cookies };
}

type Stops = Array<() => Promise<void>>;

/** Seeds the readers, starts the server and nginx, and checks every route once. */
async function setUp(workDir: string, builds: Builds, readers: number, stops: Stops) {
  const pages = await pickPages(builds.distDir);
  console.log(
    `[bench] public ${pages.public.path} (${pages.public.bytes} B), ` +
      `gated ${pages.gated.path} (${pages.gated.tier}, ${pages.gated.bytes} B)`,
  );
  const tier = config.tiers.at(-1)?.id ?? "free";
  const { databasePath, cookies } = await seed(workDir, readers, tier);

  let servers = 0;
  const start = async (env: Record<string, string> = {}, workers?: number) => {
    const logPath = path.join(workDir, `server-${++servers}.log`);
    const port = await freePort();
    const server = await startServer({
      ...builds,
      databasePath,
      port,
      logPath,
      env,
      workers,
    });
    stops.push(() => server.stop());
    return { ...server, logPath };
  };
  const server = await start();

  const site = { prefix: path.join(workDir, "nginx"), port: await freePort() };
  const root = path.join(pages.root, "public");
  const nginx = await startNginx(
    site.prefix,
    site.port,
    renderStaticConfig({ ...site, root }),
  );
  stops.push(() => nginx.stop());
  console.log(`[bench] server ${server.url} (pid ${server.pid}), nginx ${nginx.url}`);

  const scene = {
    server,
    nginxUrl: nginx.url,
    nginxPid: nginx.workerPid,
    pages,
    cookies,
    tier,
  };
  await checkRoutes(scene);
  return { scene, start, databasePath };
}

type Start = (
  env?: Record<string, string>,
  workers?: number,
) => Promise<RunningServer & { logPath: string }>;

/** The cluster behind the last row: checked once, like the single process. */
async function setUpCluster(
  scene: Scene,
  start: Start,
  databasePath: string,
): Promise<ClusterContext> {
  const server = await start({ TRUST_PROXY: "1" }, CLUSTER_WORKERS);
  const gated = `${server.url}${scene.pages.gated.path}`;
  const full = expectPage(scene.pages.gated.bytes, true);
  await expectAnswer("cluster", gated, full, scene.cookies[0]);
  console.log(`[bench] cluster ${server.url} (${CLUSTER_WORKERS} workers)`);
  return {
    server,
    logPath: server.logPath,
    databasePath,
    gatedPath: scene.pages.gated.path,
    cookies: scene.cookies,
  };
}

async function setUpEdge(
  workDir: string,
  builds: Builds,
  scene: Scene,
  start: (env: Record<string, string>) => Promise<RunningServer>,
  stops: Stops,
): Promise<EdgeRow> {
  const edge = await prepareEdge({
    prefix: path.join(workDir, "edge"),
    port: await freePort(),
    distDir: builds.distDir,
    gatedPath: scene.pages.gated.path,
    gatedBytes: scene.pages.gated.bytes,
    tier: scene.tier,
    sessionCookies: scene.cookies,
    startServer: start,
  });
  if (edge.kind === "ready") stops.push(() => edge.stop());
  else console.log(`[bench] edge row skipped: ${edge.reason}`);
  return edge;
}

function report(
  measured: Measured,
  connections: number[],
  peakRssMb: number | null,
  edge: EdgeRow,
) {
  const { rows, writes } = measured;
  console.log("");
  printTable(rows);
  console.log("");
  printClusterWrites(writes);
  console.log("");
  const targets = evaluateTargets({
    rows,
    connections,
    peakRssMb,
    serverRoutes: [ROWS.public, ROWS.gated, ROWS.teaser, ROWS.me],
    edgeRow: edge.kind === "ready" ? EDGE_ROW : null,
    cluster: { row: CLUSTER_ROW, writes },
  });
  printTargets(targets);
  console.log(
    `\nnginx: ${NGINX_WORKERS} worker process, like the server's one Node process; ` +
      "sendfile on, access log off. The load generator runs on the same machine.",
  );
  if (edge.kind === "skipped") console.log(`edge row: not measured (${edge.reason}).`);
  return targets;
}

function printClusterWrites(writes: Measured["writes"]): void {
  for (const each of writes) {
    console.log(
      `${CLUSTER_ROW} at ${each.connections}: ${each.attempted} sign-ups ` +
        `(${each.perSecond}/s), ${each.stored} stored with their session, ` +
        `${each.lost} lost, ${each.failed} failed, ${each.busyInLog} "database is locked" in the log`,
    );
  }
}

function describeMachine() {
  const machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
  };
  // Other work on the machine slows every row; the load says how much there was.
  const load = loadavg()[0]?.toFixed(2);
  console.log(
    `[bench] ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load ${load}`,
  );
  return machine;
}

const main = defineCommand({
  meta: {
    name: "bench:serve",
    description: "Load the built server (public, gated, teaser, /api/me) beside nginx",
  },
  args: {
    duration: { type: "string", default: "10", description: "Seconds of load per row" },
    warmup: { type: "string", default: "2", description: "Seconds of warmup per row" },
    connections: { type: "string", default: "20,100", description: "Connection counts" },
    posts: { type: "string", default: "5000", description: "Posts to generate" },
    readers: { type: "string", default: "10000", description: "Readers in the database" },
    seed: { type: "string", default: "1", description: "Seed of the generated prose" },
    "work-dir": {
      type: "string",
      description: "Build here, or reuse the builds kept here",
    },
    keep: {
      type: "boolean",
      description: "Keep the work folder (builds, database, logs)",
    },
  },
  async run({ args }) {
    const duration = positiveInteger(args.duration, "duration");
    const warmup = Math.max(0, Math.floor(Number(args.warmup) || 0));
    const connections = connectionCounts(args.connections);
    const readers = positiveInteger(args.readers, "readers");
    const workDir = args["work-dir"]
      ? path.resolve(args["work-dir"])
      : await mkdtemp(path.join(tmpdir(), "tierwall-serve-"));
    const machine = describeMachine();

    const stops: Stops = [];
    try {
      const posts = positiveInteger(args.posts, "posts");
      const builds = await prepareBuilds(
        workDir,
        posts,
        positiveInteger(args.seed, "seed"),
      );
      const { scene, start, databasePath } = await setUp(workDir, builds, readers, stops);
      const edge = await setUpEdge(workDir, builds, scene, start, stops);
      const cluster = await setUpCluster(scene, start, databasePath);

      const load = { durationSeconds: duration, warmupSeconds: warmup };
      const measured = await measureAll(scene, connections, load, { edge, cluster });
      const { rows } = measured;
      const peakRssMb = await readPeakRssMb(scene.server.pid);
      const targets = report(measured, connections, peakRssMb, edge);

      const summary = {
        bench: "serve",
        ...machine,
        durationSeconds: duration,
        warmupSeconds: warmup,
        posts,
        readers,
        nginxWorkers: NGINX_WORKERS,
        pages: { public: scene.pages.public, gated: scene.pages.gated },
        rows,
        clusterWrites: measured.writes,
        peakRssMb,
        targets,
        edge: edge.kind === "ready" ? { measured: true } : { skipped: edge.reason },
      };
      console.log(`\n${JSON.stringify(summary)}`);

      const broken = meaningless(rows).map((row) => `${row.name} at ${row.connections}`);
      if (broken.length > 0) {
        console.error(`[bench] too many failed answers to trust: ${broken.join(", ")}`);
        console.error(`[bench] the server logs are in ${workDir}`);
        process.exitCode = 1;
      }
    } finally {
      for (const stop of stops.reverse()) await stop();
      if (args.keep || args["work-dir"]) console.log(`[bench] kept ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    }
  },
});

runMain(main);
