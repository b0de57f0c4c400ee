import { statSync } from "node:fs";
import type { TierwallConfig } from "../lib/config.ts";
import { freeTier, isKnownTier } from "../lib/tiers.ts";
import { beginBuild, discardStagingFolder, getBuildTarget } from "./build-target.ts";
import {
  addFullEditions,
  fullEditionSource,
  type PostRegistry,
  preparePostSource,
} from "./editions.ts";
import type {
  CollectionItem,
  EleventyConfig,
  EleventyData,
  MarkdownLibrary,
} from "./eleventy-types.ts";
import { finishBuild } from "./finish-build.ts";
import { describeGate, FULL_EDITION_OF, locatePost, relativeToInput } from "./posts.ts";
import { assertUniqueUrls } from "./unique-urls.ts";

/**
 * The Tierwall Eleventy plugin: one public bundle and one bundle per paid tier.
 *
 * Every post is a Markdown file that Eleventy renders twice:
 *  - the file itself, at its public URL. For a gated post a preprocessor cuts
 *    its Markdown down to the teaser before anything renders, so collections,
 *    the index, the feed and every other public template only ever see the
 *    teaser;
 *  - a "full edition": a virtual copy of the same file, kept out of collections
 *    and written under a staging folder, then moved to `gated/<tier>/`. For free
 *    posts it is dropped.
 * After Eleventy has written everything, the plugin places attachments, checks
 * the public bundle for gated text, writes the manifest and swaps the build in.
 */

export interface TierwallPluginOptions {
  config: TierwallConfig;
}

export default function tierwall(
  eleventyConfig: EleventyConfig,
  options: TierwallPluginOptions,
): void {
  const { config } = options;
  const target = getBuildTarget(eleventyConfig);
  const inputDir = eleventyConfig.directories.input;
  const registry: PostRegistry = { posts: new Map(), gatedPosts: new Map() };
  let markdown: MarkdownLibrary | undefined;

  addPostData(eleventyConfig, config, inputDir);
  addFullEditions(eleventyConfig, inputDir);
  eleventyConfig.addPreprocessor("tierwall", "*", function (data, content) {
    return preparePostSource(this.inputPath, data, content, {
      config,
      inputDir,
      registry,
    });
  });
  eleventyConfig.addCollection("posts", (api) => listPosts(api.getAll(), inputDir));
  eleventyConfig.amendLibrary("md", (library) => {
    markdown = library;
  });

  eleventyConfig.on("eleventy.before", async ({ runMode }) => {
    assertOneShotBuild(runMode);
    registry.posts.clear();
    registry.gatedPosts.clear();
    await beginBuild(target);
  });
  eleventyConfig.on("eleventy.contentMap", assertUniqueUrls);
  eleventyConfig.on("eleventy.after", async ({ directories }) => {
    const finishing = finishBuild(target, config, registry, markdown, directories.input);
    await finishing.catch(async (error) => {
      await discardStagingFolder(target.stagingDir);
      throw error;
    });
  });
}

export { tierwall };

/**
 * `tierwall` on every post page (tier, tier name, whether gated, whether this
 * page is the teaser, public URL) and the full editions' output location.
 */
function addPostData(
  eleventyConfig: EleventyConfig,
  config: TierwallConfig,
  inputDir: string,
): void {
  const postTier = (data: EleventyData) =>
    typeof data.tier === "string" && isKnownTier(config.tiers, data.tier)
      ? data.tier
      : freeTier(config.tiers).id;

  // An object, not a function: Eleventy would call a function given as global data.
  eleventyConfig.addGlobalData("eleventyComputed", { tierwall: computePostGate });

  function computePostGate(data: EleventyData) {
    const source = data[FULL_EDITION_OF];
    const isFull = typeof source === "string";
    const location = locatePost(
      isFull ? source : relativeToInput(inputDir, data.page.inputPath),
    );
    if (!location) return undefined;

    const tier = postTier(data);
    const gate = describeGate(config.tiers, tier, !isFull, location.url);
    return gate.gated ? gate : { ...gate, url: data.page.url || location.url };
  }

  // Posts written without a `date` show the source file's date on both editions.
  eleventyConfig.addDateParsing(function (value) {
    if (value !== undefined) return undefined;
    const source = fullEditionSource(this.page.inputPath);
    return source ? statSync(source).birthtime : undefined;
  });
}

/**
 * The full editions are read from disk when the config loads, so a long-lived
 * Eleventy process (`--watch`, `--serve`) would serve stale or missing full
 * pages after an edit. Development rebuilds go through `watchSite()` instead,
 * which starts a fresh build, with a fresh config, for every change.
 */
function assertOneShotBuild(runMode: string): void {
  if (runMode === "build") return;
  throw new Error(
    `[build] Tierwall builds cannot run under Eleventy's --${runMode}: full editions of ` +
      "gated posts would go stale.\n  Fix: for development use watchSite() from " +
      "plugin/watch.ts, which rebuilds and swaps in a new build on every change.",
  );
}

/** Every post, newest first: the teaser editions, since full editions stay out. */
function listPosts(items: CollectionItem[], inputDir: string): CollectionItem[] {
  return items
    .filter((item) => locatePost(relativeToInput(inputDir, item.inputPath)))
    .sort((a, b) => b.date.getTime() - a.date.getTime());
}
