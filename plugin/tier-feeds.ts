import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Tier, TierwallConfig } from "../lib/config.ts";
import { canRead, isPaidTier, tierName } from "../lib/tiers.ts";
import type { PostRegistry } from "./editions.ts";
import type { EleventyConfig, MarkdownLibrary } from "./eleventy-types.ts";
import { FULL_EDITION_OF, locatePost, relativeToInput } from "./posts.ts";

/**
 * Full-text feeds for paying readers. Each paid tier's bundle gets one Atom
 * feed, `gated/<tier>/feeds/full.xml`, holding every post that tier may read,
 * in full: the free posts and the gated posts of the tier and every tier below
 * it. The server hands a tier's feed to a reader through their private feed
 * address, never at a public path, so these files stay out of the manifest's
 * routes and are listed under `feeds` instead.
 */

/** Where a tier's feed sits inside `gated/<tier>/`. */
export const TIER_FEED_FILE = "feeds/full.xml";

/** A published post as the tier feeds need it. */
export interface FeedPost {
  /** The post's URL path, "/posts/<slug>/". */
  url: string;
  title: string;
  date: Date;
  tier: string;
  /** The whole post, marker removed, as Markdown. */
  markdown: string;
}

/**
 * Records every published post while Eleventy preprocesses it. The map is
 * filled afresh by each build and read once the build has rendered.
 *
 * IMPORTANT: add this after the "tierwall" preprocessor. It reads what that one
 * decided (drafts dropped, tier checked, teaser split) from the registry.
 */
export function collectFeedPosts(
  eleventyConfig: EleventyConfig,
  inputDir: string,
  registry: PostRegistry,
): Map<string, FeedPost> {
  const feedPosts = new Map<string, FeedPost>();

  eleventyConfig.on("eleventy.before", () => feedPosts.clear());
  eleventyConfig.addPreprocessor("tierwall-feeds", "*", function (data, content) {
    if (typeof data[FULL_EDITION_OF] === "string") return undefined;

    const relative = relativeToInput(inputDir, this.inputPath);
    const location = locatePost(relative);
    const file = path.join(inputDir, relative);
    const post = registry.posts.get(file);
    if (!location || !post) return undefined;

    // A gated post's content is its teaser by now; the registry kept the whole.
    const gated = registry.gatedPosts.get(file);
    feedPosts.set(file, {
      url: location.url,
      title: String(data.title),
      date: data.page.date,
      tier: post.tier,
      markdown: gated ? gated.parts.full : content,
    });
    return undefined;
  });
  return feedPosts;
}

/** The posts a tier's feed holds: those the tier may read, newest first. */
export function postsForTier(
  tiers: readonly Tier[],
  posts: Iterable<FeedPost>,
  tier: string,
): FeedPost[] {
  return [...posts]
    .filter((post) => canRead(tiers, tier, post.tier))
    .sort((a, b) => b.date.getTime() - a.date.getTime() || a.url.localeCompare(b.url));
}

/**
 * Writes every paid tier's feed into its bundle and returns the manifest's
 * `feeds`: tier id → file inside `gated/<tier>/`.
 */
export async function writeTierFeeds(
  gatedDir: string,
  config: TierwallConfig,
  posts: Iterable<FeedPost>,
  markdown: MarkdownLibrary,
): Promise<Record<string, string>> {
  const all = [...posts];
  const feeds: Record<string, string> = {};
  // A post's entry reads the same in every tier's feed: render each one once.
  const rendered = new Map(
    all.map((post) => [post, renderEntry(config, post, markdown)]),
  );

  for (const { id } of config.tiers.filter((tier) => isPaidTier(config.tiers, tier.id))) {
    const entries = postsForTier(config.tiers, all, id);
    const file = path.join(gatedDir, id, TIER_FEED_FILE);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, renderTierFeed(config, id, entries, markdown, rendered));
    feeds[id] = TIER_FEED_FILE;
  }
  return feeds;
}

/** One tier's Atom feed. Every address in it is absolute, from `site.url`. */
export function renderTierFeed(
  config: TierwallConfig,
  tier: string,
  posts: readonly FeedPost[],
  markdown: MarkdownLibrary,
  rendered?: ReadonlyMap<FeedPost, string>,
): string {
  const { site } = config;
  const home = absolute("/", site.url);
  const newest = posts[0]?.date ?? new Date();
  const author = site.author
    ? `  <author><name>${xml(site.author)}</name></author>\n`
    : "";

  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${xml(site.language)}">
  <title>${xml(`${site.name} (${tierName(config.tiers, tier)})`)}</title>
  <subtitle>${xml(site.description)}</subtitle>
  <link href="${xml(home)}"/>
  <id>${xml(`${home}#full-text-${tier}`)}</id>
  <updated>${newest.toISOString()}</updated>
${author}${posts.map((post) => rendered?.get(post) ?? renderEntry(config, post, markdown)).join("")}</feed>
`;
}

function renderEntry(
  config: TierwallConfig,
  post: FeedPost,
  markdown: MarkdownLibrary,
): string {
  const url = absolute(post.url, config.site.url);
  const html = absoluteLinks(markdown.render(post.markdown), url);
  const label = tierName(config.tiers, post.tier);
  const category = isPaidTier(config.tiers, post.tier)
    ? `    <category term="${xml(post.tier)}" label="${xml(label)}"/>\n`
    : "";

  return `  <entry>
    <title>${xml(post.title)}</title>
    <link href="${xml(url)}"/>
    <id>${xml(url)}</id>
    <published>${post.date.toISOString()}</published>
    <updated>${post.date.toISOString()}</updated>
${category}    <content type="html" xml:base="${xml(url)}">${xml(html)}</content>
  </entry>
`;
}

/**
 * Not every feed reader honours `xml:base`, so an image or download beside a
 * post ("chart.svg") is written out as its full address.
 */
function absoluteLinks(html: string, base: string): string {
  return html.replace(/\b(src|href)="([^"]*)"/g, (attribute, name: string, value) => {
    try {
      return `${name}="${new URL(value, base).href}"`;
    } catch {
      return attribute;
    }
  });
}

function absolute(pathOrUrl: string, siteUrl: string): string {
  return new URL(pathOrUrl, siteUrl).href;
}

function xml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
