import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import type { Manifest } from "../lib/manifest.ts";
import { freeTier, isKnownTier } from "../lib/tiers.ts";
import {
  type BuildTarget,
  beginBuild,
  discardStagingFolder,
  getBuildTarget,
} from "./build-target.ts";
import {
  assembleBundles,
  findGatedFilesInPublic,
  fullEditionPermalink,
  GATED_STAGING_FOLDER,
  type PostWithAttachments,
} from "./bundles.ts";
import type {
  CollectionItem,
  ContentMapEvent,
  EleventyConfig,
  EleventyData,
  MarkdownLibrary,
} from "./eleventy-types.ts";
import { displayPath, TierwallBuildError } from "./errors.ts";
import { describeLeaks, scanForLeaks } from "./leak-scan.ts";
import {
  describeGate,
  FULL_EDITION_OF,
  FULL_EDITION_SUFFIX,
  fullEditionPath,
  type GatedPost,
  isInsidePostFolder,
  locatePost,
  readPostFrontMatter,
  relativeToInput,
  resolvePostTier,
} from "./posts.ts";
import { publishBuild, writeManifest } from "./publish.ts";
import { splitAtPaywall } from "./teaser.ts";

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

interface BuildState {
  posts: Map<string, PostWithAttachments>;
  gatedPosts: Map<string, GatedPost>;
  markdown: MarkdownLibrary | undefined;
}

export default function tierwall(
  eleventyConfig: EleventyConfig,
  options: TierwallPluginOptions,
): void {
  const { config } = options;
  const target = getBuildTarget(eleventyConfig);
  const inputDir = eleventyConfig.directories.input;
  const state: BuildState = { posts: new Map(), gatedPosts: new Map(), markdown: undefined };

  addPostData(eleventyConfig, config, inputDir);
  addFullEditions(eleventyConfig, inputDir);
  eleventyConfig.addPreprocessor("tierwall", "*", function (data, content) {
    return preparePostSource(this.inputPath, data, content, { config, inputDir, state });
  });
  eleventyConfig.addCollection("posts", (api) => listPosts(api.getAll(), inputDir));
  eleventyConfig.amendLibrary("md", (library) => {
    state.markdown = library;
  });

  eleventyConfig.on("eleventy.before", async () => {
    state.posts.clear();
    state.gatedPosts.clear();
    await beginBuild(target);
  });

  // The full editions are read when the config loads; in watch mode a change to
  // a post reloads the config so that they are read again.
  eleventyConfig.addWatchTarget(path.join(inputDir, "posts", "**"), { resetConfig: true });
  eleventyConfig.on("eleventy.contentMap", assertUniqueUrls);
  eleventyConfig.on("eleventy.after", async ({ directories }) => {
    await finishBuild(target, config, state, directories.input).catch(async (error) => {
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

/** A virtual twin of every post file, rendered whole, for the gated bundles. */
function addFullEditions(eleventyConfig: EleventyConfig, inputDir: string): void {
  for (const relative of findPostFiles(inputDir)) {
    const location = locatePost(relative);
    if (!location) continue;

    const source = readFileSync(path.join(inputDir, relative), "utf8");
    eleventyConfig.addTemplate(fullEditionPath(relative), source, {
      [FULL_EDITION_OF]: relative,
      eleventyExcludeFromCollections: true,
      permalink: (data: EleventyData) => fullEditionPermalink(String(data.tier), location),
    });
  }
}

function findPostFiles(inputDir: string): string[] {
  const postsDir = path.join(inputDir, "posts");
  if (!existsSync(postsDir)) return [];

  return readdirSync(postsDir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isFile() && entry.name.endsWith(".md")) return [`posts/${entry.name}`];
    const index = `posts/${entry.name}/index.md`;
    if (entry.isDirectory() && existsSync(path.join(inputDir, index))) return [index];
    return [];
  });
}

/** The source Markdown of a full edition's input path, if it is one. */
function fullEditionSource(inputPath: string): string | undefined {
  return inputPath.endsWith(FULL_EDITION_SUFFIX)
    ? inputPath.slice(0, -FULL_EDITION_SUFFIX.length) + ".md"
    : undefined;
}

interface PrepareContext {
  config: TierwallConfig;
  inputDir: string;
  state: BuildState;
}

/**
 * The preprocessor: validates a post's front matter and decides what Markdown
 * each edition renders. Returning `false` drops a template; `undefined` leaves
 * it alone.
 */
function preparePostSource(
  inputPath: string,
  data: EleventyData,
  content: string,
  context: PrepareContext,
): string | false | undefined {
  const fullEditionOf = data[FULL_EDITION_OF];
  const relative =
    typeof fullEditionOf === "string"
      ? fullEditionOf
      : relativeToInput(context.inputDir, inputPath);
  const location = locatePost(relative);

  if (!location) return isInsidePostFolder(relative) ? false : undefined;
  if (data.draft === true) return false;

  const file = path.join(context.inputDir, relative);
  if (typeof fullEditionOf === "string") return prepareFullEdition(file, data, content, context);

  const tier = resolvePostTier(file, data, context.config.tiers);
  const { title, teaser } = readPostFrontMatter(file, data);
  const split = splitAtPaywall(content, teaser);
  if (!split.ok) throw new TierwallBuildError(file, split.problem, split.fix);

  const gated = describeGate(context.config.tiers, tier, false, location.url).gated;
  context.state.posts.set(file, { inputPath: file, tier, gated, location });
  if (!gated) return nonEmpty(split.parts.full);

  if (data.permalink !== undefined) {
    throw new TierwallBuildError(
      file,
      "a gated post cannot set `permalink:`",
      `remove it; the post is published at ${location.url} (set \`draft: true\` to hold it back)`,
    );
  }
  context.state.gatedPosts.set(file, { inputPath: file, title, tier, location, parts: split.parts });
  return nonEmpty(split.parts.teaser);
}

/**
 * The whole body of a gated post; free posts' twins are dropped. A mistake in
 * the front matter drops the twin too: the post's own file reports it, so the
 * message names the file the writer knows.
 */
function prepareFullEdition(
  file: string,
  data: EleventyData,
  content: string,
  context: PrepareContext,
): string | false {
  try {
    const tier = resolvePostTier(file, data, context.config.tiers);
    readPostFrontMatter(file, data);
    const split = splitAtPaywall(content, undefined);
    const gated = describeGate(context.config.tiers, tier, false, "").gated;
    return gated && split.ok ? nonEmpty(split.parts.full) : false;
  } catch (error) {
    if (error instanceof TierwallBuildError) return false;
    throw error;
  }
}

// IMPORTANT: Eleventy ignores an empty string returned by a preprocessor and
// renders the original content. For a gated post without a teaser that original
// is the whole post, so an empty teaser must come back as whitespace.
function nonEmpty(markdown: string): string {
  return markdown.trim() ? markdown : "\n";
}

/** Every post, newest first: the teaser editions, since full editions stay out. */
function listPosts(items: CollectionItem[], inputDir: string): CollectionItem[] {
  return items
    .filter((item) => locatePost(relativeToInput(inputDir, item.inputPath)))
    .sort((a, b) => b.date.getTime() - a.date.getTime());
}

/** Stops the build when two pages claim one URL, naming both files. */
function assertUniqueUrls(map: ContentMapEvent): void {
  const claims = new Map<string, string[]>();
  for (const [inputPath, urls] of Object.entries(map.inputPathToUrl)) {
    for (const url of urls) {
      if (url.startsWith(`/${GATED_STAGING_FOLDER}/`)) continue;
      claims.set(url, [...(claims.get(url) ?? []), inputPath]);
    }
  }

  for (const [url, files] of claims) {
    if (files.length < 2) continue;
    const [first = "", ...others] = files.map(displayPath);
    throw new TierwallBuildError(
      first,
      `this page and ${others.join(", ")} would both be published at ${url}`,
      "rename one of the files (a post's URL comes from its file or folder name) " +
        "or give one of them a different `permalink:`",
    );
  }
}

async function finishBuild(
  target: BuildTarget,
  config: TierwallConfig,
  state: BuildState,
  inputDir: string,
): Promise<void> {
  const layout = {
    stagingDir: target.stagingDir,
    publicDir: path.join(target.stagingDir, "public"),
    gatedDir: path.join(target.stagingDir, "gated"),
    inputDir,
  };
  const gatedPosts = [...state.gatedPosts.values()];
  const routes = await assembleBundles(layout, [...state.posts.values()], gatedPosts);

  const misplaced = await findGatedFilesInPublic(layout.publicDir, routes);
  if (misplaced.length > 0) {
    throw new Error(
      `[build] gated files found in the public bundle: ${misplaced.join(", ")}\n` +
        "  Fix: remove the passthrough copy that puts gated posts' folders into the output",
    );
  }

  if (!state.markdown) throw new Error("[build] Eleventy's Markdown library was never loaded");
  const leaks = await scanForLeaks(layout.publicDir, gatedPosts, state.markdown);
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
