import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { type BuildTarget, createBuildId } from "../../plugin/build-target.ts";
import { publishBuild, type Retention } from "../../plugin/publish.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * New builds swapped in while the built server is busy. Builds are written by
 * hand in the plugin's layout and put live with the plugin's own publishBuild,
 * so the symlink swap and the pruning of old builds are the real ones. Every
 * page names its build; one post moves between Core and Lightning from build
 * to build, so an answer that took the access decision from one build and the
 * file from another cannot pass for a build's own page.
 */

let stack: Stack;
let folder: string;
let distDir: string;
let coreReader: string;

const HOME = "/";
const STEADY = "/posts/steady/";
const SHIFTING = "/posts/shifting/";
const LONG_READ = "/posts/long-read/";

/** Large enough that a full page is sent in many chunks. */
const FULL_PAGE_PADDING = 200_000;
/** Far larger than loopback socket buffers: the server is still reading when paused. */
const LONG_READ_BYTES = 48 * 1024 * 1024;

/** Short enough to prune during the test, far longer than the server's 500 ms check. */
const TEST_RETENTION: Retention = { keep: 3, graceMs: 1500 };

interface Build {
  id: string;
  /** The tier of SHIFTING in this build. */
  shiftingTier: "core" | "lightning";
  longRead: boolean;
}

const builds = new Map<string, Build>();
let buildCount = 0;
const firstBuildAt = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "tierwall-swap-"));
  distDir = join(folder, "dist");
  await publishNext();

  stack = await startStack({ distDir });
  coreReader = await readerWithTier("core");
});

afterAll(async () => {
  await stack?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

// Building and publishing

function page(build: Build, label: string, padding = 0): string {
  return [
    "<!doctype html>",
    `<meta name="tierwall-build" content="${build.id}">`,
    `<title>${label}</title>`,
    `<p>${label} of build ${build.id}</p>`,
    "x".repeat(padding),
  ].join("\n");
}

function filesOf(build: Build): Record<string, string | Buffer> {
  const shiftingFile = "posts/shifting/index.html";
  const files: Record<string, string | Buffer> = {
    "manifest.json": JSON.stringify(manifestOf(build)),
    "public/index.html": page(build, "home"),
    "public/404.html": page(build, "not found"),
    "public/posts/steady/index.html": page(build, "steady teaser"),
    "gated/core/posts/steady/index.html": page(build, "steady full", FULL_PAGE_PADDING),
    [`public/${shiftingFile}`]: page(build, "shifting teaser"),
    [`gated/${build.shiftingTier}/${shiftingFile}`]: page(
      build,
      `shifting full for ${build.shiftingTier}`,
      FULL_PAGE_PADDING,
    ),
  };
  if (build.longRead) {
    files["public/posts/long-read/index.html"] = page(build, "long read teaser");
    files["gated/core/posts/long-read/index.html"] = longReadPage(build);
  }
  return files;
}

function manifestOf(build: Build): Manifest {
  const routes: Manifest["routes"] = {
    [STEADY]: { tier: "core", file: "posts/steady/index.html", teaser: true },
    [SHIFTING]: {
      tier: build.shiftingTier,
      file: "posts/shifting/index.html",
      teaser: true,
    },
  };
  if (build.longRead) {
    routes[LONG_READ] = {
      tier: "core",
      file: "posts/long-read/index.html",
      teaser: true,
    };
  }
  return {
    buildId: build.id,
    builtAt: new Date().toISOString(),
    tiers: ["free", "spark", "core", "lightning"],
    routes,
  };
}

function longReadPage(build: Build): Buffer {
  const head = Buffer.from(page(build, "long read"));
  const body = Buffer.alloc(LONG_READ_BYTES - head.length, "long read. ");
  return Buffer.concat([head, body]);
}

interface StagedBuild {
  build: Build;
  target: BuildTarget;
}

/** Writes the next build into a staging folder, as Eleventy and the plugin do. */
async function stageNext(options: { longRead?: boolean } = {}): Promise<StagedBuild> {
  const n = buildCount++;
  const build: Build = {
    id: createBuildId(new Date(firstBuildAt + n * 60_000)),
    shiftingTier: n % 2 === 0 ? "core" : "lightning",
    longRead: options.longRead ?? false,
  };
  const buildsDir = join(folder, ".dist-builds");
  const target: BuildTarget = {
    buildId: build.id,
    distDir,
    contentDir: "content",
    buildsDir,
    stagingDir: join(buildsDir, `.staging-${build.id}`),
    quiet: true,
    published: false,
  };

  for (const [path, content] of Object.entries(filesOf(build))) {
    const file = join(target.stagingDir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  builds.set(build.id, build);
  return { build, target };
}

async function publish(
  staged: StagedBuild,
  retention: Retention = TEST_RETENTION,
): Promise<Build> {
  await publishBuild(staged.target, retention);
  return staged.build;
}

async function publishNext(options: { longRead?: boolean } = {}): Promise<Build> {
  return publish(await stageNext(options));
}

// Readers and requests

type ReaderKind = "core" | "anonymous";

interface Probe {
  path: string;
  reader: ReaderKind;
}

const probes: Probe[] = [
  { path: HOME, reader: "anonymous" },
  { path: STEADY, reader: "core" },
  { path: STEADY, reader: "anonymous" },
  { path: SHIFTING, reader: "core" },
  { path: SHIFTING, reader: "anonymous" },
];

/** The one body `build` gives `reader` at `path`. */
function expectedBody(build: Build, probe: Probe): string {
  if (probe.path === HOME) return page(build, "home");
  if (probe.path === STEADY) {
    return probe.reader === "core"
      ? page(build, "steady full", FULL_PAGE_PADDING)
      : page(build, "steady teaser");
  }
  if (probe.reader === "core" && build.shiftingTier === "core") {
    return page(build, "shifting full for core", FULL_PAGE_PADDING);
  }
  return page(build, "shifting teaser");
}

function buildIdIn(body: string): string | undefined {
  return /<meta name="tierwall-build" content="([^"]+)">/.exec(body)?.[1];
}

interface Outcome {
  probe: Probe;
  buildId?: string;
  problem?: string;
}

async function send(probe: Probe): Promise<Outcome> {
  let response: Response;
  let body: string;
  try {
    response = await fetch(`${stack.baseUrl}${probe.path}`, {
      redirect: "manual",
      headers: probe.reader === "core" ? { cookie: coreReader } : {},
    });
    body = await response.text();
  } catch (error) {
    return { probe, problem: `connection failed: ${String(error)}` };
  }

  if (response.status !== 200) {
    return { probe, problem: `status ${response.status}: ${body.slice(0, 200)}` };
  }
  const buildId = buildIdIn(body);
  const build = buildId ? builds.get(buildId) : undefined;
  if (!build) return { probe, problem: `no known build in ${body.slice(0, 200)}` };
  if (body !== expectedBody(build, probe)) {
    return {
      probe,
      buildId,
      problem: `not build ${buildId}'s page: ${body.slice(0, 200)}`,
    };
  }
  return { probe, buildId };
}

/** `loops` clients, each sending one request after another until `stop` resolves. */
async function runLoad(
  loops: number,
  stop: Promise<unknown>,
  limits: { requestsPerLoop: number; deadlineMs: number },
): Promise<Outcome[]> {
  let stopped = false;
  void stop.finally(() => {
    stopped = true;
  });
  const deadline = Date.now() + limits.deadlineMs;
  const outcomes: Outcome[] = [];

  const loop = async (index: number) => {
    for (let i = 0; i < limits.requestsPerLoop; i++) {
      if (stopped || Date.now() > deadline) return;
      const probe = probes[(index + i) % probes.length] as Probe;
      outcomes.push(await send(probe));
    }
  };
  await Promise.all(Array.from({ length: loops }, (_, index) => loop(index)));
  return outcomes;
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Swaps in builds both slower and faster than the server looks for them. The
 * burst puts four builds live within one of the server's checks, so the build
 * the server last saw drops out of the newest three while it still serves it.
 */
async function swapBuilds(): Promise<{ newest: Build; log: string[] }> {
  const log: string[] = [];
  const started = Date.now();
  const note = (build: Build) => log.push(`${Date.now() - started} ms: ${build.id}`);

  let newest = builds.get([...builds.keys()].at(-1) as string) as Build;
  await pause(300);
  for (let i = 0; i < 3; i++) {
    newest = await publishNext();
    note(newest);
    await pause(700);
  }

  const burst = [];
  for (let i = 0; i < 4; i++) burst.push(await stageNext());
  for (const staged of burst) {
    newest = await publish(staged);
    note(newest);
  }

  for (let i = 0; i < 3; i++) {
    await pause(900);
    newest = await publishNext();
    note(newest);
  }
  await pause(700);
  return { newest, log };
}

async function waitForBuild(buildId: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as {
      buildId?: string;
    };
    if (health.buildId === buildId) return;
    await pause(100);
  }
  throw new Error(`The server never served build ${buildId}`);
}

/** A reader whose stored subscription gives them `tier`. */
async function readerWithTier(tier: string): Promise<string> {
  const reader = await stack.signUp();
  stack.storeSubscription(reader.email, tier);
  return reader.cookie;
}

function summarize(outcomes: Outcome[]): string {
  const lines = outcomes
    .filter((outcome) => outcome.problem)
    .slice(0, 10)
    .map(({ probe, problem }) => `${probe.reader} ${probe.path}: ${problem}`);
  return lines.join("\n");
}

describe("swapping builds while the server is under load", () => {
  it("answers every request with exactly one build's page, then the newest", async () => {
    const swaps = swapBuilds();
    const outcomes = await runLoad(20, swaps, {
      requestsPerLoop: 2000,
      deadlineMs: 45_000,
    });
    const { newest, log } = await swaps;

    const failures = outcomes.filter((outcome) => outcome.problem);
    const report = `${summarize(outcomes)}\nbuilds went live at:\n${log.join("\n")}`;
    expect(failures.length, report).toBe(0);
    expect(outcomes.length).toBeGreaterThan(200);

    // The load saw several builds, both tiers of the shifting post among them.
    const seen = new Set(outcomes.map((outcome) => outcome.buildId));
    expect(seen.size).toBeGreaterThanOrEqual(4);
    const shiftingTiers = new Set(
      [...seen].map((id) => builds.get(id as string)?.shiftingTier),
    );
    expect(shiftingTiers).toEqual(new Set(["core", "lightning"]));

    // Old builds were pruned while requests kept coming.
    const kept = await readdir(join(folder, ".dist-builds"));
    expect(kept.length).toBeLessThan(builds.size);

    await waitForBuild(newest.id);
    for (const probe of probes) {
      const outcome = await send(probe);
      expect(outcome.problem).toBeUndefined();
      expect(outcome.buildId).toBe(newest.id);
    }
  }, 90_000);
});

describe("a slow reader", () => {
  it("gets the whole page of the build it started on, even once that build is pruned", async () => {
    const started = await publishNext({ longRead: true });
    await waitForBuild(started.id);

    const download = startPausedDownload(LONG_READ, coreReader);
    const { status, firstChunk } = await download.started;
    expect(status).toBe(200);
    expect(buildIdIn(firstChunk.toString())).toBe(started.id);

    // Newer builds arrive and, with no grace period, the started one is removed.
    const immediate: Retention = { keep: 3, graceMs: 0 };
    for (let i = 0; i < 3; i++) await publish(await stageNext(), immediate);
    expect(existsSync(join(folder, ".dist-builds", started.id))).toBe(false);

    const body = await download.finish();
    expect(body.length).toBe(LONG_READ_BYTES);
    expect(sha256(body)).toBe(sha256(longReadPage(started)));
  }, 60_000);

  it("who leaves mid-download no longer holds the file open on the server", async () => {
    const build = await publishNext({ longRead: true });
    await waitForBuild(build.id);
    const file = join(folder, ".dist-builds", build.id, "gated/core/posts/long-read");

    const download = startPausedDownload(LONG_READ, coreReader);
    await download.started;
    expect(await serverFilesUnder(file)).toHaveLength(1);

    download.abort();
    const deadline = Date.now() + 5000;
    while ((await serverFilesUnder(file)).length > 0 && Date.now() < deadline) {
      await pause(50);
    }
    expect(await serverFilesUnder(file)).toEqual([]);
  });
});

/** The files under `prefix` the server process has open (Linux's /proc). */
async function serverFilesUnder(prefix: string): Promise<string[]> {
  const fdDir = `/proc/${stack.server.child.pid}/fd`;
  const targets = await Promise.all(
    (await readdir(fdDir)).map((fd) => readlink(join(fdDir, fd)).catch(() => "")),
  );
  return targets.filter((target) => target.startsWith(prefix));
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A GET whose body is left unread after its first chunk until `finish()`. */
function startPausedDownload(path: string, cookie: string) {
  const url = new URL(stack.baseUrl);
  const chunks: Buffer[] = [];
  let response: IncomingMessage | undefined;
  let markStarted: (first: { status: number; firstChunk: Buffer }) => void = () => {};
  const started = new Promise<{ status: number; firstChunk: Buffer }>((resolve) => {
    markStarted = resolve;
  });

  const finished = new Promise<Buffer>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      headers: { cookie },
    });
    req.on("response", (res) => {
      response = res;
      res.once("data", (chunk: Buffer) => {
        res.pause();
        chunks.push(chunk);
        markStarted({ status: res.statusCode ?? 0, firstChunk: chunk });
      });
      res.on("end", () => resolve(Buffer.concat(chunks)));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });

  finished.catch(() => undefined);
  return {
    started,
    abort: () => response?.destroy(),
    finish: (): Promise<Buffer> => {
      response?.on("data", (chunk: Buffer) => chunks.push(chunk));
      response?.resume();
      return finished;
    },
  };
}
