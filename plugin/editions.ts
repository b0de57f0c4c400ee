import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import { isPaidTier } from "../lib/tiers.ts";
import { fullEditionPermalink, type PostWithAttachments } from "./bundles.ts";
import type { EleventyConfig, EleventyData } from "./eleventy-types.ts";
import { TierwallBuildError } from "./errors.ts";
import {
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
import { splitAtPaywall } from "./teaser.ts";

/**
 * The two editions of every post. The post's own file becomes the public
 * edition: for a gated post, the preprocessor below replaces its Markdown with
 * the teaser before anything renders it. A virtual twin of the file, added when
 * the config loads, becomes the full edition of a gated post and is dropped for
 * a free one.
 */

/** What the build learns about posts while Eleventy preprocesses them. */
export interface PostRegistry {
  posts: Map<string, PostWithAttachments>;
  gatedPosts: Map<string, GatedPost>;
}

/** A virtual twin of every post file, rendered whole, for the gated bundles. */
export function addFullEditions(eleventyConfig: EleventyConfig, inputDir: string): void {
  for (const relative of findPostFiles(inputDir)) {
    const location = locatePost(relative);
    if (!location) continue;

    const source = readFileSync(path.join(inputDir, relative), "utf8");
    eleventyConfig.addTemplate(fullEditionPath(relative), source, {
      [FULL_EDITION_OF]: relative,
      eleventyExcludeFromCollections: true,
      permalink: (data: EleventyData) =>
        fullEditionPermalink(String(data.tier), location),
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
export function fullEditionSource(inputPath: string): string | undefined {
  return inputPath.endsWith(FULL_EDITION_SUFFIX)
    ? `${inputPath.slice(0, -FULL_EDITION_SUFFIX.length)}.md`
    : undefined;
}

export interface PrepareContext {
  config: TierwallConfig;
  inputDir: string;
  registry: PostRegistry;
}

/**
 * The preprocessor: validates a post's front matter and decides what Markdown
 * each edition renders. Returning `false` drops a template; `undefined` leaves
 * it alone.
 */
export function preparePostSource(
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
  if (typeof fullEditionOf === "string")
    return prepareFullEdition(file, data, content, context);

  const tier = resolvePostTier(file, data, context.config.tiers);
  const { title, teaser } = readPostFrontMatter(file, data);
  const split = splitAtPaywall(content, teaser);
  if (!split.ok) throw new TierwallBuildError(file, split.problem, split.fix);

  const gated = isPaidTier(context.config.tiers, tier);
  context.registry.posts.set(file, { inputPath: file, tier, gated, location });
  if (!gated) return nonEmpty(split.parts.full);

  if (data.permalink !== undefined) {
    throw new TierwallBuildError(
      file,
      "a gated post cannot set `permalink:`",
      `remove it; the post is published at ${location.url} (set \`draft: true\` to hold it back)`,
    );
  }
  context.registry.gatedPosts.set(file, {
    inputPath: file,
    title,
    tier,
    location,
    parts: split.parts,
  });
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
    const gated = isPaidTier(context.config.tiers, tier);
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
