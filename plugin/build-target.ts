import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { EleventyConfig } from "./eleventy-types.ts";

/**
 * Where one build goes. Eleventy writes into a fresh staging folder next to the
 * finished builds; only a complete, scanned build is renamed into place and
 * pointed at by the `<distDir>` symlink:
 *
 *   <parent>/<distName>                      symlink → .<distName>-builds/<buildId>
 *   <parent>/.<distName>-builds/<buildId>/   public/, gated/<tier>/, manifest.json
 *   <parent>/.<distName>-builds/.staging-<buildId>/   while Eleventy runs
 */
export interface BuildTarget {
  buildId: string;
  /** Absolute path of the symlink the server reads, `dist` by default. */
  distDir: string;
  /** Eleventy's input folder: the publication's Markdown. */
  contentDir: string;
  buildsDir: string;
  stagingDir: string;
  quiet: boolean;
  /** Set once this target's build is live; a watch-mode rebuild then takes a new ID. */
  published: boolean;
  /**
   * Whether posts with `draft: true` are published, with a "Draft" badge. Only
   * development builds do this; a production build leaves no trace of a draft.
   */
  includeDrafts?: boolean;
  /** Warnings for writers from the current build, each already printed once. */
  warnings?: string[];
}

export interface BuildTargetOptions {
  distDir?: string;
  contentDir?: string;
  quiet?: boolean;
  /** Publish drafts; defaults to the environment variable TIERWALL_DRAFTS=1. */
  includeDrafts?: boolean;
  /** Tells the caller (`buildSite`) which build the config file prepared. */
  onPrepared?: (target: BuildTarget) => void;
}

// A registry symbol, not a module-level variable: `buildSite` and the config
// file may each load their own copy of this module (vitest loads test code
// through Vite, Eleventy imports the config through Node), but both see the same
// Eleventy config object.
const TARGET = Symbol.for("tierwall.buildTarget");
const REQUEST = Symbol.for("tierwall.buildRequest");

type WithTarget = EleventyConfig & {
  [TARGET]?: BuildTarget;
  [REQUEST]?: BuildTargetOptions;
};

/** Called by `buildSite` before Eleventy reads the config file. */
export function requestBuildTarget(
  eleventyConfig: EleventyConfig,
  options: BuildTargetOptions,
): void {
  (eleventyConfig as WithTarget)[REQUEST] = options;
}

/**
 * Called by the config file: decides the folders for this build (from
 * `buildSite`'s options, else `DIST_DIR`, else `dist`) and creates the staging
 * folder.
 */
export function prepareBuildTarget(eleventyConfig: EleventyConfig): BuildTarget {
  const holder = eleventyConfig as WithTarget;
  const existing = holder[TARGET];
  if (existing) return existing;

  const request = holder[REQUEST] ?? {};
  const distDir = path.resolve(request.distDir ?? process.env.DIST_DIR ?? "dist");
  const buildsDir = path.join(path.dirname(distDir), `.${path.basename(distDir)}-builds`);
  const buildId = createBuildId();
  const target: BuildTarget = {
    buildId,
    distDir,
    contentDir: request.contentDir ?? inputFromCommandLine(eleventyConfig) ?? "content",
    buildsDir,
    stagingDir: path.join(buildsDir, `.staging-${buildId}`),
    quiet: request.quiet ?? false,
    published: false,
    includeDrafts: request.includeDrafts ?? process.env.TIERWALL_DRAFTS === "1",
    warnings: [],
  };

  mkdirSync(target.stagingDir, { recursive: true });
  holder[TARGET] = target;
  request.onPrepared?.(target);
  return target;
}

/**
 * Readies the target for the build about to run. Eleventy's watch mode builds
 * again with the same config (and so the same output folder): each rebuild gets
 * a fresh build ID and an empty staging folder.
 */
export async function beginBuild(target: BuildTarget): Promise<void> {
  if (target.published) {
    target.buildId = createBuildId();
    target.published = false;
  }
  target.warnings = [];
  await rm(target.stagingDir, { recursive: true, force: true });
  await mkdir(target.stagingDir, { recursive: true });
}

export function getBuildTarget(eleventyConfig: EleventyConfig): BuildTarget {
  const target = (eleventyConfig as WithTarget)[TARGET];
  if (target) return target;
  throw new Error(
    "[build] the tierwall plugin needs a build target: call prepareBuildTarget(eleventyConfig) " +
      "in eleventy.config.ts before adding the plugin",
  );
}

/** `--input=…` on Eleventy's command line, which Eleventy lets win over the config. */
function inputFromCommandLine(eleventyConfig: EleventyConfig): string | undefined {
  const input = eleventyConfig.directories.input;
  return input && input !== "./" ? input : undefined;
}

/** Sorts by time, so the newest builds are the last names in the builds folder. */
export function createBuildId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export function stagingPublicDir(target: BuildTarget): string {
  return path.join(target.stagingDir, "public");
}

/** Removes a failed build's staging folder; nothing in it was ever published. */
export async function discardStagingFolder(stagingDir: string): Promise<void> {
  await rm(stagingDir, { recursive: true, force: true });
}
