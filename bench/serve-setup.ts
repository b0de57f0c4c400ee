import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Manifest } from "../lib/manifest.ts";
import { runServerBuild, stopProcess } from "../scripts/stack.ts";
import config from "../tierwall.config.ts";
import { generatePosts, writeTierwallContent } from "./generate-posts.ts";

/**
 * What the serving benchmark serves: a generated publication built with the
 * Tierwall build, the server built as `npm run build:server` builds it, and
 * that server started as operators start it (see README, "Deploying").
 */

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const runBuildScript = fileURLToPath(new URL("./run-build.ts", import.meta.url));

export interface Builds {
  distDir: string;
  outputDir: string;
}

/**
 * Generates the posts and builds site and server into `workDir`. A folder that
 * already holds both builds (from `--keep`) is used as it is.
 */
export async function prepareBuilds(
  workDir: string,
  posts: number,
  seed: number,
): Promise<Builds> {
  const builds = {
    distDir: path.join(workDir, "dist"),
    outputDir: path.join(workDir, "output"),
  };
  const serverEntry = path.join(builds.outputDir, "server/index.mjs");
  if (existsSync(path.join(builds.distDir, "manifest.json")) && existsSync(serverEntry)) {
    console.log(`[bench] reusing the builds in ${workDir}`);
    return builds;
  }

  const contentDir = path.join(workDir, "content");
  await writeTierwallContent(
    contentDir,
    generatePosts({ count: posts, seed, tiers: config.tiers }),
  );
  console.log(`[bench] ${posts} posts generated; building site and server…`);
  const started = performance.now();
  await Promise.all([
    runQuiet(process.execPath, [
      "--import",
      "tsx",
      runBuildScript,
      "--kind",
      "tierwall",
      "--content",
      contentDir,
      "--out",
      builds.distDir,
    ]),
    runServerBuild(builds.outputDir, path.join(workDir, "nitro")),
  ]);
  console.log(`[bench] built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return builds;
}

/** Runs a command, keeping its output only to explain a failure. */
async function runQuiet(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, {
    cwd: projectRoot,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-20_000);
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (code !== 0)
    throw new Error(`[bench] ${args.join(" ")} failed (exit ${code}):\n${errors}`);
}

export interface Pages {
  /** The resolved build folder. */
  root: string;
  /** A page gated to a paid tier, with a teaser for readers below it. */
  gated: { path: string; tier: string; bytes: number };
  /** A free post whose page is about the size of the gated page's full text. */
  public: { path: string; bytes: number };
}

/**
 * The pages to load: a gated post of a middle tier, and the free post closest
 * in size to its full page, so that both rows move about the same bytes.
 */
export async function pickPages(distDir: string): Promise<Pages> {
  const root = await realpath(distDir);
  const manifest = JSON.parse(
    await readFile(path.join(root, "manifest.json"), "utf8"),
  ) as Manifest;
  const middleTier = config.tiers[Math.floor(config.tiers.length / 2)]?.id;
  const gatedEntry = Object.entries(manifest.routes)
    .filter(
      ([key, route]) => key.endsWith("/") && route.teaser && route.tier === middleTier,
    )
    .sort(([a], [b]) => a.localeCompare(b))[0];
  if (!gatedEntry)
    throw new Error(`[bench] the build has no ${middleTier} post with a teaser`);

  const [gatedPath, route] = gatedEntry;
  const gatedBytes = (await stat(path.join(root, "gated", route.tier, route.file))).size;
  const freePosts = await listFreePosts(root, manifest);
  const closest = await closestInSize(freePosts, gatedBytes);
  return {
    root,
    gated: { path: gatedPath, tier: route.tier, bytes: gatedBytes },
    public: closest,
  };
}

interface FreePost {
  page: string;
  file: string;
}

async function listFreePosts(root: string, manifest: Manifest): Promise<FreePost[]> {
  const slugs = await readdir(path.join(root, "public", "posts"));
  return slugs
    .map((slug) => `/posts/${slug}/`)
    .filter((page) => !manifest.routes[page])
    .map((page) => ({ page, file: path.join(root, "public", page, "index.html") }))
    .filter((post) => existsSync(post.file));
}

async function closestInSize(
  posts: readonly FreePost[],
  bytes: number,
): Promise<{ path: string; bytes: number }> {
  let best: { path: string; bytes: number } | undefined;
  for (const post of posts) {
    const { size } = await stat(post.file);
    if (!best || Math.abs(size - bytes) < Math.abs(best.bytes - bytes)) {
      best = { path: post.page, bytes: size };
    }
  }
  if (!best) throw new Error("[bench] the build has no free post");
  return best;
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  outputDir: string;
  distDir: string;
  databasePath: string;
  port: number;
  /** Where the server's stdout and stderr go, as in production: a file. */
  logPath: string;
  env?: Record<string, string>;
  /** Runs this many workers under `npm run start:cluster` instead of one process. */
  workers?: number;
}

/**
 * `node .output/server/index.mjs` with a production environment. Stripe is
 * left unconfigured (no served route needs it) and Resend points at a closed
 * port: the outbox is empty, so nothing is ever sent.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const url = `http://127.0.0.1:${options.port}`;
  const log = await open(options.logPath, "a");
  const entry = path.join(options.outputDir, "server/index.mjs");
  const args = options.workers
    ? ["--import", "tsx", path.join(projectRoot, "scripts/cluster.ts"), "--entry", entry]
    : [entry];
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      PORT: String(options.port),
      SITE_URL: url,
      DATABASE_PATH: options.databasePath,
      DIST_DIR: options.distDir,
      RESEND_BASE_URL: "http://127.0.0.1:9",
      FEED_TOKEN_SECRET: "bench-feed-token-secret-bench-feed-token-secret",
      ...(options.workers ? { TIERWALL_WORKERS: String(options.workers) } : {}),
      ...options.env,
    },
    stdio: ["ignore", log.fd, log.fd],
  });
  await log.close();
  if (child.pid === undefined) throw new Error("[bench] the server did not start");

  const server = { child, url, pid: child.pid, stop: () => stopProcess(child) };
  await waitForHealth(server, options.logPath);
  if (options.workers) await waitForWorkers(options.logPath, options.workers);
  return server;
}

/** The cluster launcher logs each worker that listens; waits for all of them. */
async function waitForWorkers(logPath: string, workers: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const log = await readFile(logPath, "utf8").catch(() => "");
    if ((log.match(/"worker \d+ listening"/g) ?? []).length >= workers) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`[bench] ${workers} workers did not all listen; see ${logPath}`);
}

async function waitForHealth(server: RunningServer, logPath: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(`[bench] the server exited with ${server.child.exitCode}:\n${log}`);
    }
    const status = await fetch(`${server.url}/api/health`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  await server.stop();
  throw new Error(`[bench] the server did not answer within 20 s; see ${logPath}`);
}
