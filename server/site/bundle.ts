import { readFile, realpath, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import type { Manifest } from "../../lib/manifest.ts";
import { isKnownTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { logError, logInfo, logWarn } from "../log.ts";
import { FileCache } from "./file-cache.ts";

/**
 * The build the server is serving. DIST_DIR (default `dist`) is usually a
 * symlink that the build swaps to a new, complete folder. The server resolves
 * the link once per manifest it loads and serves each request entirely from
 * that resolved folder, so a page and its manifest always come from one build.
 * A new build is noticed within CHECK_INTERVAL_MS, without a restart.
 */

export interface Bundle {
  /** The resolved build folder, holding manifest.json, public/ and gated/. */
  root: string;
  manifest: Manifest;
  /** This build's small files, once read (see file-cache.ts). */
  files: FileCache;
}

export type BundleResult = { ok: true; bundle: Bundle } | { ok: false; reason: string };

const CHECK_INTERVAL_MS = 500;

interface Loaded {
  bundle: Bundle;
  fingerprint: string;
}

let loaded: Loaded | undefined;
let checkedAt = 0;
let refreshing: Promise<BundleResult> | undefined;
let lastProblem: string | undefined;

export function loadBundle(): Promise<BundleResult> {
  if (loaded && Date.now() - checkedAt < CHECK_INTERVAL_MS) {
    return Promise.resolve({ ok: true, bundle: loaded.bundle });
  }
  refreshing ??= refreshBundle().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

async function refreshBundle(): Promise<BundleResult> {
  checkedAt = Date.now();
  const distDir = resolve(process.env.DIST_DIR ?? "dist");

  let root: string;
  let fingerprint: string;
  try {
    root = await realpath(distDir);
    const info = await stat(join(root, "manifest.json"));
    fingerprint = `${root}:${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch {
    return keepPrevious(`no build with a manifest.json at ${distDir}`);
  }
  if (loaded?.fingerprint === fingerprint) return { ok: true, bundle: loaded.bundle };

  let manifest: Manifest;
  try {
    manifest = parseManifest(await readFile(join(root, "manifest.json"), "utf8"));
  } catch (error) {
    logError("site", `the manifest in ${root} cannot be read`, error);
    return keepPrevious(`the manifest in ${root} cannot be read`);
  }

  announce(loaded?.bundle.manifest.buildId, manifest, root);
  loaded = { bundle: { root, manifest, files: new FileCache() }, fingerprint };
  lastProblem = undefined;
  return { ok: true, bundle: loaded.bundle };
}

/** A broken or missing new build leaves the last good one in service. */
function keepPrevious(problem: string): BundleResult {
  if (problem !== lastProblem) {
    const action = loaded ? `still serving build ${loaded.bundle.manifest.buildId}` : "";
    logWarn("site", [problem, action].filter(Boolean).join("; "));
    lastProblem = problem;
  }
  if (loaded) return { ok: true, bundle: loaded.bundle };
  return { ok: false, reason: "No site build is available yet." };
}

function announce(
  previousId: string | undefined,
  manifest: Manifest,
  root: string,
): void {
  if (previousId === undefined)
    logInfo("site", `serving build ${manifest.buildId} from ${root}`);
  else if (previousId !== manifest.buildId) {
    logInfo("site", `build ${manifest.buildId} swapped in, replacing ${previousId}`);
  }

  const unknown = new Set(
    Object.values(manifest.routes)
      .map((route) => route.tier)
      .filter((tier) => !isKnownTier(tierwall.tiers, tier)),
  );
  if (unknown.size > 0) {
    const list = [...unknown].join(", ");
    logWarn(
      "site",
      `the build gates posts to unknown tiers (${list}): nobody can read them`,
    );
  }
}

const manifestSchema = z.object({
  buildId: z.string().min(1),
  builtAt: z.string().default(""),
  tiers: z.array(z.string()),
  routes: z.record(
    z.string().startsWith("/"),
    z.object({ tier: z.string(), file: z.string().min(1), teaser: z.boolean() }),
  ),
  feeds: z.record(z.string(), z.string().min(1)).optional(),
});

export function parseManifest(text: string): Manifest {
  return manifestSchema.parse(JSON.parse(text));
}
