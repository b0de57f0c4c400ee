import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TierwallConfig } from "../lib/config.ts";
import { isPaidTier } from "../lib/tiers.ts";
import { fullEditionPermalink, type PostWithAttachments } from "./bundles.ts";
import type { EleventyConfig, EleventyData, MarkdownParser } from "./eleventy-types.ts";
import { TierwallBuildError } from "./errors.ts";
import {
  markerInFreePost,
  misplacedMarker,
  type PostSource,
  teaserWarning,
} from "./marker-problems.ts";
import {
  hasPaywallMarker,
  type MarkerScan,
  misplacedMarkerLine,
  scanPaywallMarkers,
} from "./paywall-marker.ts";
import {
  FULL_EDITION_OF,
  FULL_EDITION_SUFFIX,
  fullEditionPath,
  type GatedPost,
  isDraft,
  isInsidePostFolder,
  locatePost,
  type PostLocation,
  readPostFrontMatter,
  relativeToInput,
  resolvePostTier,
} from "./posts.ts";
import { markGatedSection, type PostParts, splitAtMarker } from "./teaser.ts";

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
  /**
   * The Markdown each post's public summary is cut from, by source file: the
   * teaser of a gated post, the `description` or body of a free one.
   */
  summaries: Map<string, string>;
}

export function createPostRegistry(): PostRegistry {
  return { posts: new Map(), gatedPosts: new Map(), summaries: new Map() };
}

export function clearPostRegistry(registry: PostRegistry): void {
  registry.posts.clear();
  registry.gatedPosts.clear();
  registry.summaries.clear();
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
  /** Development builds publish drafts; production builds drop them entirely. */
  includeDrafts: boolean;
  /** The site's Markdown parser, which tells a marker from a marker in code. */
  markdown(): MarkdownParser;
  warn(file: string, problem: string, fix: string): void;
}

/**
 * The preprocessor: validates a post's front matter and decides what Markdown
 * each edition renders. Returning `false` drops a template (from the output,
 * every collection and the manifest); `undefined` leaves it alone.
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
  const file = path.join(context.inputDir, relative);
  if (isDraft(file, data) && !context.includeDrafts) return false;
  if (typeof fullEditionOf === "string")
    return prepareFullEdition(file, data, content, context);
  return preparePublicEdition({ file, body: content }, data, location, context);
}

/** A post's own file: a free post whole, a gated post's teaser. */
function preparePublicEdition(
  source: PostSource,
  data: EleventyData,
  location: PostLocation,
  context: PrepareContext,
): string {
  const { file } = source;
  const tier = resolvePostTier(file, data, context.config.tiers);
  const { title, teaser } = readPostFrontMatter(file, data);
  const gated = isPaidTier(context.config.tiers, tier);
  const scan = scanPaywallMarkers(source.body, context.markdown());
  if (!gated && hasPaywallMarker(scan)) {
    const tierLine = data.tier === undefined ? undefined : `tier: ${tier}`;
    throw markerInFreePost(source, scan, tierLine);
  }
  const parts = splitPost(source, scan, teaser);

  context.registry.posts.set(file, { inputPath: file, tier, gated, location });
  context.registry.summaries.set(file, summarySource(data, parts, gated));
  if (!gated) return nonEmpty(parts.full);

  if (data.permalink !== undefined) {
    throw new TierwallBuildError(
      file,
      "a gated post cannot set `permalink:`",
      `remove it; the post is published at ${location.url} (set \`draft: true\` to hold it back)`,
    );
  }
  const warning = teaserWarning(source, parts, scan);
  if (warning) context.warn(file, warning.problem, warning.fix);
  context.registry.gatedPosts.set(file, {
    inputPath: file,
    title,
    tier,
    location,
    parts,
  });
  return nonEmpty(parts.teaser);
}

/** The post's parts; a marker sharing its line with text stops the build. */
function splitPost(source: PostSource, scan: MarkerScan, teaser?: string): PostParts {
  const misplaced = misplacedMarkerLine(scan);
  if (misplaced !== undefined) throw misplacedMarker(source, misplaced);
  return splitAtMarker(source.body, scan, teaser);
}

/** Public Markdown a post's summary is cut from; never the gated part of a gated post. */
function summarySource(data: EleventyData, parts: PostParts, gated: boolean): string {
  if (gated) return parts.teaser;
  const { description } = data;
  return typeof description === "string" && description.trim() ? description : parts.full;
}

/**
 * The whole body of a gated post, its gated part wrapped for the paywalled-
 * content markup; free posts' twins are dropped. A mistake in the front matter
 * drops the twin too: the post's own file reports it, so the message names the
 * file the writer knows.
 */
function prepareFullEdition(
  file: string,
  data: EleventyData,
  content: string,
  context: PrepareContext,
): string | false {
  try {
    const tier = resolvePostTier(file, data, context.config.tiers);
    const { teaser } = readPostFrontMatter(file, data);
    if (!isPaidTier(context.config.tiers, tier)) return false;

    const scan = scanPaywallMarkers(content, context.markdown());
    if (misplacedMarkerLine(scan) !== undefined) return false;
    const parts = splitAtMarker(content, scan, teaser);
    context.registry.summaries.set(file, summarySource(data, parts, true));
    return markGatedSection(parts);
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
