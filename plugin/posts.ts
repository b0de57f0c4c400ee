import path from "node:path";
import type { Tier } from "../lib/config.ts";
import { freeTier, isKnownTier, isPaidTier, tierName } from "../lib/tiers.ts";
import type { EleventyData } from "./eleventy-types.ts";
import { TierwallBuildError } from "./errors.ts";
import { hasFrontMatter } from "./source-file.ts";
import type { PostParts } from "./teaser.ts";

/**
 * What a post is: `posts/<slug>.md`, or `posts/<slug>/index.md` with its
 * attachments (images, downloads) in the same folder. Everything here works on
 * paths relative to Eleventy's input folder, with forward slashes.
 */

export interface PostLocation {
  slug: string;
  /** The post's public URL, where its teaser (or, for free posts, the page) lives. */
  url: string;
  /** Input-relative folder holding the post's attachments, for `<slug>/index.md`. */
  folder: string | null;
}

/** Per-page data the theme reads as `tierwall`, present on post pages only. */
export interface PostGate {
  tier: string;
  tierName: string;
  /** Whether the post needs a paid tier. */
  gated: boolean;
  /** Whether this page is the public teaser of a gated post. */
  teaser: boolean;
  url: string;
  /** A draft, published only by development builds (see BuildTarget.includeDrafts). */
  draft: boolean;
  /**
   * Plain text that any public output may carry: meta and Open Graph
   * descriptions, feeds, search data. For a gated post it comes only from the
   * teaser; empty when the post has none.
   */
  summary: string;
}

/** A gated post as the build saw it, kept for the bundles and the leak scan. */
export interface GatedPost {
  inputPath: string;
  title: string;
  tier: string;
  location: PostLocation;
  parts: PostParts;
}

/** The data key that marks a full edition and names the Markdown it renders. */
export const FULL_EDITION_OF = "tierwallFullEditionOf";

export const FULL_EDITION_SUFFIX = ".tierwall-full.md";

export function locatePost(relativePath: string): PostLocation | null {
  const single = /^posts\/([^/]+)\.md$/.exec(relativePath);
  if (single?.[1] && !single[1].endsWith(".tierwall-full")) {
    return { slug: single[1], url: `/posts/${single[1]}/`, folder: null };
  }
  const folder = /^posts\/([^/]+)\/index\.md$/.exec(relativePath);
  if (folder?.[1]) {
    return { slug: folder[1], url: `/posts/${folder[1]}/`, folder: `posts/${folder[1]}` };
  }
  return null;
}

/** A file inside a post's folder that is not the post itself: an attachment. */
export function isInsidePostFolder(relativePath: string): boolean {
  return /^posts\/[^/]+\/.+/.test(relativePath) && !locatePost(relativePath);
}

export function fullEditionPath(sourceRelativePath: string): string {
  return sourceRelativePath.replace(/\.md$/, FULL_EDITION_SUFFIX);
}

export function relativeToInput(inputDir: string, inputPath: string): string {
  return path.relative(inputDir, inputPath).split(path.sep).join("/");
}

/**
 * The post's tier from its data, defaulting to the free tier; rejects unknown
 * tiers. An empty `tier:` is refused rather than read as free: the writer was
 * about to name a tier, and publishing the post for everyone could give away
 * what they meant to sell.
 */
export function resolvePostTier(
  file: string,
  data: EleventyData,
  tiers: readonly Tier[],
): string {
  const value = data.tier;
  if (value === undefined) return freeTier(tiers).id;
  if (typeof value === "string" && isKnownTier(tiers, value)) return value;

  const valid = tiers.map((tier) => tier.id).join(", ");
  const fix = `set \`tier:\` to one of ${valid}, or remove it to publish the post for free`;
  if (value === null || (typeof value === "string" && !value.trim())) {
    throw new TierwallBuildError(file, `\`tier:\` is empty (the tiers: ${valid})`, fix);
  }
  const problem = `unknown tier "${String(value)}" in the front matter (valid tiers: ${valid})`;
  throw new TierwallBuildError(file, problem, fix);
}

/** Checks the front matter a post needs; returns its title and optional teaser. */
export function readPostFrontMatter(
  file: string,
  data: EleventyData,
): { title: string; teaser: string | undefined } {
  const { title, teaser, tags } = data;
  if (typeof title !== "string" || !title.trim()) throw missingTitle(file);
  if (teaser !== undefined && typeof teaser !== "string") {
    throw new TierwallBuildError(
      file,
      "`teaser:` must be text",
      "write the teaser as one string, e.g. `teaser: >` followed by indented lines",
    );
  }
  const tagList = typeof tags === "string" ? [tags] : tags;
  if (tagList !== undefined && !isStringArray(tagList)) {
    throw new TierwallBuildError(
      file,
      "`tags:` must be a word or a list of words",
      "write `tags: [databases, operations]`",
    );
  }
  return { title, teaser };
}

/**
 * A post without a title. A file without front matter lacks its title first of
 * all, and adding a `title:` line alone would not help: say what is missing.
 */
function missingTitle(file: string): TierwallBuildError {
  if (hasFrontMatter(file)) {
    return new TierwallBuildError(
      file,
      "the post has no title",
      "add `title: Your headline` to the front matter",
    );
  }
  return new TierwallBuildError(
    file,
    "the post has no front matter (its first line is not `---`), so it has no title",
    "start the file with front matter, its first `---` on the very first line:\n" +
      "      ---\n      title: Your headline\n      ---",
  );
}

/**
 * Whether the post is a draft. `draft: yes` is text in YAML, not true: reading
 * it as "not a draft" would publish a post its writer meant to hold back.
 */
export function isDraft(file: string, data: EleventyData): boolean {
  const { draft } = data;
  if (draft === undefined || typeof draft === "boolean") return draft === true;
  throw new TierwallBuildError(
    file,
    `\`draft: ${String(draft)}\` is neither true nor false`,
    "write `draft: true` to hold the post back, or remove the line to publish it",
  );
}

export interface GateFacts {
  tier: string;
  isTeaser: boolean;
  url: string;
  draft: boolean;
  summary: string;
}

export function describeGate(
  tiers: readonly Tier[],
  { isTeaser, ...facts }: GateFacts,
): PostGate {
  const gated = isPaidTier(tiers, facts.tier);
  return {
    ...facts,
    tierName: tierName(tiers, facts.tier),
    gated,
    teaser: gated && isTeaser,
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
