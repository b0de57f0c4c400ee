import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import type { Manifest } from "../lib/manifest.ts";
import type { BuildTarget } from "./build-target.ts";
import { assembleBundles, findGatedFilesInPublic } from "./bundles.ts";
import type { PostRegistry } from "./editions.ts";
import type { MarkdownLibrary } from "./eleventy-types.ts";
import { displayPath, TierwallBuildError } from "./errors.ts";
import { type Leak, scanForLeaks } from "./leak-scan.ts";
import { publishBuild, writeManifest } from "./publish.ts";
import { type FeedPost, writeTierFeeds } from "./tier-feeds.ts";

/**
 * After Eleventy has written everything: split the output into bundles, refuse
 * the build if anything gated sits in the public bundle, write the manifest and
 * swap the build in. Any error here leaves the previous build live.
 */
export async function finishBuild(
  target: BuildTarget,
  config: TierwallConfig,
  registry: PostRegistry,
  markdown: MarkdownLibrary | undefined,
  inputDir: string,
  feedPosts: ReadonlyMap<string, FeedPost>,
): Promise<void> {
  const layout = {
    stagingDir: target.stagingDir,
    publicDir: path.join(target.stagingDir, "public"),
    gatedDir: path.join(target.stagingDir, "gated"),
    inputDir,
  };
  const gatedPosts = [...registry.gatedPosts.values()];
  const routes = await assembleBundles(layout, [...registry.posts.values()], gatedPosts);

  const misplaced = await findGatedFilesInPublic(layout.publicDir, routes);
  if (misplaced.length > 0) {
    throw new TierwallBuildError(
      "eleventy.config.ts",
      `gated files found in the public bundle: ${misplaced.join(", ")}`,
      "remove the passthrough copy that puts gated posts' folders into the output",
    );
  }

  if (!markdown) throw new Error("[build] Eleventy's Markdown library was never loaded");
  const leaks = await scanForLeaks(layout.publicDir, gatedPosts, markdown);
  if (leaks.length > 0) throw leakError(leaks);

  const feeds = await writeTierFeeds(
    layout.gatedDir,
    config,
    feedPosts.values(),
    markdown,
  );

  const manifest: Manifest = {
    buildId: target.buildId,
    builtAt: new Date().toISOString(),
    tiers: config.tiers.map((tier) => tier.id),
    routes,
    feeds,
  };
  await writeManifest(target.stagingDir, manifest);
  await publishBuild(target);

  if (!target.quiet) console.log(describeLiveBuild(manifest));
}

/** The line a build prints once it is live. */
export function describeLiveBuild(manifest: Manifest): string {
  const count = Object.keys(manifest.routes).length;
  return `[build] ${manifest.buildId} is live: ${count} gated routes`;
}

/**
 * Names the first leaking post as the file to look at and lists every leak:
 * which post, which public file, which sentence.
 */
function leakError(leaks: readonly Leak[]): TierwallBuildError {
  const [first] = leaks;
  const lines = leaks.map(
    (leak) =>
      `  - ${displayPath(leak.post.inputPath)} (${leak.post.tier}) leaks into ` +
      `public/${leak.file}:\n      "${leak.sentence}"`,
  );
  return new TierwallBuildError(
    first?.post.inputPath ?? "content",
    "text from below the <!-- paywall --> marker reached the public bundle; the build " +
      `was not published\n${lines.join("\n")}`,
    "find the template or data file that writes this text to a public page (listings, " +
      "feeds, search data and <meta> tags may use only the teaser), or move the sentence " +
      "above the <!-- paywall --> marker if it is meant to be public",
  );
}
