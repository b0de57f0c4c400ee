import { statSync } from "node:fs";
import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import { freeTier, isKnownTier } from "../lib/tiers.ts";
import {
  type BuildTarget,
  beginBuild,
  discardStagingFolder,
  getBuildTarget,
} from "./build-target.ts";
import { assertValidDate } from "./dates.ts";
import {
  addFullEditions,
  clearPostRegistry,
  createPostRegistry,
  fullEditionSource,
  type PostRegistry,
  preparePostSource,
} from "./editions.ts";
import type {
  CollectionItem,
  EleventyConfig,
  EleventyData,
  MarkdownEngine,
  MarkdownLibrary,
  MarkdownParser,
} from "./eleventy-types.ts";
import { formatWarning } from "./errors.ts";
import { finishBuild } from "./finish-build.ts";
import { checkFrontMatterOnRead } from "./front-matter.ts";
import { describeGate, FULL_EDITION_OF, locatePost, relativeToInput } from "./posts.ts";
import { summarizeMarkdown } from "./summary.ts";
import { collectFeedPosts } from "./tier-feeds.ts";
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
 *
 * Every post page also gets `tierwall` data (tier, whether this is the teaser,
 * a public summary cut only from the teaser): the theme builds meta tags,
 * structured data, feeds and search data from it and from collections, which
 * hold teasers only.
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
  const registry = createPostRegistry();
  let markdown: MarkdownEngine | undefined;
  const warn = createWarner(target);

  checkFrontMatterOnRead(eleventyConfig);
  addPostData(eleventyConfig, { config, inputDir, registry }, () => markdown);
  addFullEditions(eleventyConfig, inputDir);
  eleventyConfig.addPreprocessor("tierwall", "*", function (data, content) {
    return preparePostSource(this.inputPath, data, content, {
      config,
      inputDir,
      registry,
      includeDrafts: target.includeDrafts === true,
      markdown: () => requireParser(markdown),
      warn,
    });
  });
  const feedPosts = collectFeedPosts(eleventyConfig, inputDir, registry);
  eleventyConfig.addCollection("posts", (api) => listPosts(api.getAll(), inputDir));
  eleventyConfig.amendLibrary("md", (library) => {
    markdown = library;
  });

  eleventyConfig.on("eleventy.before", async ({ runMode }) => {
    assertOneShotBuild(runMode);
    clearPostRegistry(registry);
    await beginBuild(target);
  });
  eleventyConfig.on("eleventy.contentMap", assertUniqueUrls);
  eleventyConfig.on("eleventy.after", async ({ directories }) => {
    const finishing = finishBuild(
      target,
      config,
      registry,
      markdown,
      directories.input,
      feedPosts,
    );
    await finishing.catch(async (error) => {
      await discardStagingFolder(target.stagingDir);
      throw error;
    });
  });
}

export { tierwall };

interface PostDataContext {
  config: TierwallConfig;
  inputDir: string;
  registry: PostRegistry;
}

/**
 * `tierwall` on every post page (tier, tier name, whether gated, whether this
 * page is the teaser, public URL, draft flag, public summary), and the checks
 * and defaults of `date`.
 */
function addPostData(
  eleventyConfig: EleventyConfig,
  { config, inputDir, registry }: PostDataContext,
  markdown: () => MarkdownLibrary | undefined,
): void {
  const postTier = (data: EleventyData) =>
    typeof data.tier === "string" && isKnownTier(config.tiers, data.tier)
      ? data.tier
      : freeTier(config.tiers).id;

  // An object, not a function: Eleventy would call a function given as global data.
  eleventyConfig.addGlobalData("eleventyComputed", { tierwall: computePostGate });

  // Computed data runs after the preprocessor, which has put the post's public
  // summary source in the registry by then.
  function computePostGate(data: EleventyData) {
    const source = data[FULL_EDITION_OF];
    const isFull = typeof source === "string";
    const relative = isFull ? source : relativeToInput(inputDir, data.page.inputPath);
    const location = locatePost(relative);
    if (!location) return undefined;

    const library = markdown();
    const summarySource = registry.summaries.get(path.join(inputDir, relative)) ?? "";
    const gate = describeGate(config.tiers, {
      tier: postTier(data),
      isTeaser: !isFull,
      url: location.url,
      draft: data.draft === true,
      summary: library ? summarizeMarkdown(summarySource, library) : "",
    });
    return gate.gated ? gate : { ...gate, url: data.page.url || location.url };
  }

  eleventyConfig.addDateParsing(function (value) {
    const source = fullEditionSource(this.page.inputPath);
    if (typeof value === "string") assertValidDate(source ?? this.page.inputPath, value);

    // Posts written without a `date` show the source file's date on both editions.
    if (value !== undefined || !source) return undefined;
    return statSync(source).birthtime;
  });
}

/**
 * The paywall marker is found with the parser of the library that renders the
 * posts. Eleventy sets its Markdown library up before it preprocesses any
 * Markdown, so it is there by the time a post is read.
 */
function requireParser(library: MarkdownEngine | undefined): MarkdownParser {
  if (typeof library?.parse === "function") return library as MarkdownParser;
  throw new Error(
    "[build] Tierwall finds the <!-- paywall --> marker with markdown-it's parse(), " +
      "which Eleventy's Markdown library does not offer here; plugin/index.ts must be " +
      "updated for this Eleventy version or Markdown library",
  );
}

/** Prints each warning once per build and keeps it for `buildSite`'s result. */
function createWarner(target: BuildTarget) {
  return (file: string, problem: string, fix: string): void => {
    const warning = formatWarning(file, problem, fix);
    target.warnings ??= [];
    if (target.warnings.includes(warning)) return;
    target.warnings.push(warning);
    console.warn(warning);
  };
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
