import { lstat, readdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Manifest } from "../lib/manifest.ts";
import type { BuildTarget } from "./build-target.ts";

/**
 * Putting a finished build live without a moment where the server could see half
 * of it. The staging folder is renamed to its final name, then a new symlink is
 * renamed over `<distDir>`; rename(2) replaces the old link in one step, so a
 * reader of `<distDir>` sees either the old build or the new one. Old builds stay
 * a while so that requests already reading them can finish.
 */

export const BUILDS_TO_KEEP = 3;
const STALE_STAGING_MS = 60 * 60 * 1000;

export async function writeManifest(
  stagingDir: string,
  manifest: Manifest,
): Promise<void> {
  const json = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(path.join(stagingDir, "manifest.json"), json);
}

/** Moves the staged build into place and points `<distDir>` at it; returns its folder. */
export async function publishBuild(target: BuildTarget): Promise<string> {
  const buildDir = path.join(target.buildsDir, target.buildId);
  await rename(target.stagingDir, buildDir);
  await pointSymlink(target, path.relative(path.dirname(target.distDir), buildDir));
  target.published = true;
  await pruneBuilds(target);
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

/** Keeps the newest builds (build IDs sort by time) and clears abandoned staging. */
async function pruneBuilds(target: BuildTarget): Promise<void> {
  const names = await readdir(target.buildsDir);
  const builds = names.filter((name) => !name.startsWith(".")).sort();
  const expired = builds.slice(0, Math.max(0, builds.length - BUILDS_TO_KEEP));

  for (const name of expired) {
    if (name === target.buildId) continue;
    await rm(path.join(target.buildsDir, name), { recursive: true, force: true });
  }
  for (const name of names.filter((n) => n.startsWith(".staging-"))) {
    await removeIfStale(path.join(target.buildsDir, name));
  }
}

/** Staging folders of crashed builds; a recent one may belong to a build still running. */
async function removeIfStale(folder: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (info && Date.now() - info.mtimeMs > STALE_STAGING_MS) {
    await rm(folder, { recursive: true, force: true });
  }
}
