import path from "node:path";
import { fileURLToPath } from "node:url";
import Eleventy from "@11ty/eleventy";
import { register } from "tsx/esm/api";
import {
  type BuildTarget,
  discardStagingFolder,
  requestBuildTarget,
} from "./build-target.ts";
import type { EleventyConfig } from "./eleventy-types.ts";
import { isWriterError } from "./errors.ts";

/**
 * Builds the site into `<distDir>` (env `DIST_DIR`, default `dist`) and swaps it
 * in atomically; see plugin/publish.ts. Used by the start script, the tests and
 * anything else that needs a build in a folder of its choice.
 */

export interface BuildSiteOptions {
  distDir?: string;
  contentDir?: string;
  quiet?: boolean;
  /** Publish `draft: true` posts with a "Draft" badge; for development only. */
  includeDrafts?: boolean;
}

export interface BuildSiteResult {
  buildId: string;
  distDir: string;
  /** Warnings for writers (already printed), e.g. a gated post with no teaser. */
  warnings: string[];
  /** Eleventy's account of the run: "Copied 9 Wrote 64 files in 0.67 seconds …". */
  summary: string;
}

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const TSX_REGISTERED = Symbol.for("tierwall.tsxRegistered");

export async function buildSite(
  options: BuildSiteOptions = {},
): Promise<BuildSiteResult> {
  allowTypeScriptConfig();

  let target: BuildTarget | undefined;
  const eleventy = new Eleventy(undefined, undefined, {
    configPath: path.join(projectRoot, "eleventy.config.ts"),
    quietMode: options.quiet ?? false,
    config(eleventyConfig: EleventyConfig) {
      requestBuildTarget(eleventyConfig, {
        distDir: options.distDir,
        contentDir: options.contentDir ?? path.join(projectRoot, "content"),
        quiet: options.quiet,
        includeDrafts: options.includeDrafts,
        onPrepared: (prepared) => {
          target = prepared;
        },
      });
    },
  });

  // Quiet builds report through the returned promise alone: a failure rejects
  // with the message that names the file and the fix.
  if (options.quiet) eleventy.disableLogger();

  try {
    await eleventy.write();
  } catch (error) {
    if (target) await discardStagingFolder(target.stagingDir);
    throw explainBuildError(error);
  }
  if (!target)
    throw new Error("[build] eleventy.config.ts did not prepare a build target");
  return {
    buildId: target.buildId,
    distDir: target.distDir,
    warnings: target.warnings ?? [],
    summary: eleventy.logFinished(),
  };
}

/**
 * Eleventy imports its config with Node's own `import()`, which reads TypeScript
 * only through tsx's loader. Under `tsx` it is already there; elsewhere (vitest,
 * plain node) register it once per process.
 */
function allowTypeScriptConfig(): void {
  const registry = globalThis as { [TSX_REGISTERED]?: boolean };
  if (registry[TSX_REGISTERED] || process.execArgv.some((arg) => arg.includes("tsx")))
    return;
  register();
  registry[TSX_REGISTERED] = true;
}

/**
 * Eleventy wraps a plugin's error in its own ("Problem writing templates",
 * "Error generating template page(s)…"). The innermost error is the one that
 * names the file and the fix, so it leads; Eleventy's wrappers are kept as
 * context only for errors that did not come from Tierwall.
 */
function explainBuildError(error: unknown): Error {
  const chain: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    chain.push(current);
    current = (current as { originalError?: unknown }).originalError ?? current.cause;
  }

  const root = chain.at(-1);
  if (!root) return new Error(String(error));
  if (isWriterError(root) || chain.length === 1) return root;

  const context = chain.slice(0, -1).map((link) => link.message);
  return new Error(`${root.message}\n  (${context.join(" → ")})`, { cause: error });
}
