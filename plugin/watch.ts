import { type FSWatcher, watch } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildSiteOptions, type BuildSiteResult, buildSite } from "./build.ts";

/**
 * Development rebuilds: watches the content and the theme and runs a complete,
 * fresh `buildSite()` after each burst of changes, swapping the result in like
 * any other build. A failed rebuild leaves the last good build live and is
 * reported; the watcher keeps going. Changes to the config files need a restart.
 * Drafts are published here (with a "Draft" badge) unless `includeDrafts: false`.
 */

export interface WatchSiteOptions extends BuildSiteOptions {
  onBuild?: (result: BuildSiteResult) => void;
  onError?: (error: Error) => void;
}

export interface SiteWatcher {
  /** The first build, already live when `watchSite` resolves (or its error). */
  first: BuildSiteResult | Error;
  close(): void;
}

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const SETTLE_MS = 150;

export async function watchSite(options: WatchSiteOptions = {}): Promise<SiteWatcher> {
  const contentDir = options.contentDir ?? path.join(projectRoot, "content");
  const includeDrafts = options.includeDrafts ?? true;
  const build = createRebuilder({ ...options, contentDir, includeDrafts });
  const first = await build.now();

  const watchers: FSWatcher[] = [contentDir, path.join(projectRoot, "theme")].map((dir) =>
    watch(dir, { recursive: true }, () => build.soon()),
  );
  const close = () => {
    for (const watcher of watchers) watcher.close();
  };
  return { first, close };
}

/** Runs one build at a time; changes during a build queue exactly one more. */
function createRebuilder(options: WatchSiteOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let queued = false;

  async function now(): Promise<BuildSiteResult | Error> {
    const result = await buildSite(options).then(
      (built) => {
        options.onBuild?.(built);
        return built;
      },
      (error: Error) => {
        (options.onError ?? reportError)(error);
        return error;
      },
    );
    return result;
  }

  function soon(): void {
    clearTimeout(timer);
    timer = setTimeout(run, SETTLE_MS);
  }

  function run(): void {
    if (running) {
      queued = true;
      return;
    }
    running = now().finally(() => {
      running = undefined;
      if (queued) {
        queued = false;
        run();
      }
    });
  }

  return { now, soon };
}

function reportError(error: Error): void {
  console.error(
    `[build] rebuild failed, the previous build stays live:\n${error.message}`,
  );
}
