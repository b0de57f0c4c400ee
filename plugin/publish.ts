import {
  lstat,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import type { Manifest } from "../lib/manifest.ts";
import type { BuildTarget } from "./build-target.ts";

/**
 * Putting a finished build live without a moment where the server could see half
 * of it. The staging folder is renamed to its final name, then a new symlink is
 * renamed over `<distDir>`; rename(2) replaces the old link in one step, so a
 * reader of `<distDir>` sees either the old build or the new one.
 *
 * Old builds stay so that requests already reading them can finish. A server
 * looks for a new build at most every half second and keeps using the folder
 * it resolved until then, so a build that was live a moment ago may still be
 * opened. A replaced build is therefore kept for a grace period after it was
 * replaced, however many builds follow it; beyond that, the newest few stay for
 * a quick look back. A build folder's mtime records when it went live.
 */

export interface Retention {
  /** How many of the newest builds always stay. */
  keep: number;
  /** How long a replaced build stays after its successor went live. */
  graceMs: number;
}

export const BUILDS_TO_KEEP = 3;
export const RETIRED_BUILD_GRACE_MS = 60_000;
const DEFAULT_RETENTION: Retention = {
  keep: BUILDS_TO_KEEP,
  graceMs: RETIRED_BUILD_GRACE_MS,
};
const STALE_STAGING_MS = 60 * 60 * 1000;

export async function writeManifest(
  stagingDir: string,
  manifest: Manifest,
): Promise<void> {
  const json = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(path.join(stagingDir, "manifest.json"), json);
}

/** Moves the staged build into place and points `<distDir>` at it; returns its folder. */
export async function publishBuild(
  target: BuildTarget,
  retention: Retention = DEFAULT_RETENTION,
): Promise<string> {
  const buildDir = path.join(target.buildsDir, target.buildId);
  await rename(target.stagingDir, buildDir);
  const now = new Date();
  await utimes(buildDir, now, now);
  await pointSymlink(target, path.relative(path.dirname(target.distDir), buildDir));
  target.published = true;

  await pruneBuilds(target, retention);
  return buildDir;
}

async function pointSymlink(target: BuildTarget, linkTarget: string): Promise<void> {
  const nextLink = `${target.distDir}.next-${target.buildId}`;
  await symlink(linkTarget, nextLink, "dir");

  // A real directory (from an older build script) cannot be renamed over; move it
  // aside first. This one-time switch is the only non-atomic moment.
  const current = await lstat(target.distDir).catch(() => null);
  const retired = path.join(target.buildsDir, `.retired-${target.buildId}`);
  const isRealDir = current?.isDirectory() === true;
  if (isRealDir) await rename(target.distDir, retired);

  await rename(nextLink, target.distDir);
  if (isRealDir) await rm(retired, { recursive: true, force: true });
}

/**
 * Removes builds that are neither among the newest nor replaced within the grace
 * period (build IDs sort by time), and clears abandoned staging.
 */
async function pruneBuilds(target: BuildTarget, retention: Retention): Promise<void> {
  const names = await readdir(target.buildsDir);
  const builds = names.filter((name) => !name.startsWith(".")).sort();
  const candidates = builds.slice(0, Math.max(0, builds.length - retention.keep));

  for (const [index, name] of candidates.entries()) {
    if (name === target.buildId) continue;
    const successor = path.join(target.buildsDir, builds[index + 1] as string);
    if (await wentLiveWithin(successor, retention.graceMs)) continue;
    await rm(path.join(target.buildsDir, name), { recursive: true, force: true });
  }
  for (const name of names.filter((n) => n.startsWith(".staging-"))) {
    await removeIfStale(path.join(target.buildsDir, name));
  }
}

async function wentLiveWithin(buildDir: string, ms: number): Promise<boolean> {
  const info = await stat(buildDir).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs < ms;
}

/** Staging folders of crashed builds; a recent one may belong to a build still running. */
async function removeIfStale(folder: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (info && Date.now() - info.mtimeMs > STALE_STAGING_MS) {
    await rm(folder, { recursive: true, force: true });
  }
}
