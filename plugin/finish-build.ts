import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import type { Manifest } from "../lib/manifest.ts";
import type { BuildTarget } from "./build-target.ts";
import { assembleBundles, findGatedFilesInPublic } from "./bundles.ts";
import type { PostRegistry } from "./editions.ts";
import type { MarkdownLibrary } from "./eleventy-types.ts";
import { describeLeaks, scanForLeaks } from "./leak-scan.ts";
import { publishBuild, writeManifest } from "./publish.ts";

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
    throw new Error(
      `[build] gated files found in the public bundle: ${misplaced.join(", ")}\n` +
        "  Fix: remove the passthrough copy that puts gated posts' folders into the output",
    );
  }

  if (!markdown) throw new Error("[build] Eleventy's Markdown library was never loaded");
  const leaks = await scanForLeaks(layout.publicDir, gatedPosts, markdown);
  if (leaks.length > 0) throw new Error(describeLeaks(leaks));

  const manifest: Manifest = {
    buildId: target.buildId,
    builtAt: new Date().toISOString(),
    tiers: config.tiers.map((tier) => tier.id),
    routes,
  };
  await writeManifest(target.stagingDir, manifest);
  await publishBuild(target);

  if (!target.quiet) {
    const count = Object.keys(routes).length;
    console.log(`[build] ${target.buildId} is live: ${count} gated routes`);
  }
}
