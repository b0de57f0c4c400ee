import type { CollectionItem } from "../plugin/eleventy-types.ts";
import type { PostGate } from "../plugin/posts.ts";
import { absoluteUrl } from "./filters.ts";

/**
 * The public lists of posts: tag pages, the JSON Feed and the search index.
 * They are built from the `posts` collection, whose items are teaser editions
 * (a gated post's `content` is its teaser), and from `tierwall.summary`, which
 * the plugin cuts from the teaser alone. Nothing here reads a post's source.
 */

/** Posts per page on the posts index and on each tag page. */
export const POSTS_PER_PAGE = 10;

export interface SiteInfo {
  name: string;
  description: string;
  url: string;
  language: string;
  author: string;
}

export interface TagPage {
  tag: string;
  slug: string;
  /** This page's URL: `/tags/<slug>/`, then `/tags/<slug>/page/2/` and on. */
  url: string;
  posts: CollectionItem[];
  postCount: number;
  pageNumber: number;
  pageCount: number;
  previousUrl: string | undefined;
  nextUrl: string | undefined;
}

export interface TagSummary {
  tag: string;
  slug: string;
  url: string;
  postCount: number;
}

export function gateOf(item: CollectionItem): PostGate | undefined {
  return item.data.tierwall as PostGate | undefined;
}

/** Post pages only, newest first (other pages carry no `tierwall` data). */
export function postItems(items: readonly CollectionItem[]): CollectionItem[] {
  return items
    .filter((item) => gateOf(item))
    .sort((a, b) => b.date.getTime() - a.date.getTime());
}

/** Drafts appear in development listings with a badge, never in feeds or search. */
export function publishedOnly(items: readonly CollectionItem[]): CollectionItem[] {
  return items.filter((item) => !gateOf(item)?.draft);
}

/**
 * A tag's URL segment: letters and digits of any script, lowercase, with
 * dashes between words. "SQLite" and "sqlite" share one page.
 */
export function tagSlug(tag: string): string {
  return tag
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}

export function tagUrl(tag: string): string {
  return `/tags/${tagSlug(tag)}/`;
}

function postTags(item: CollectionItem): string[] {
  const { tags } = item.data;
  if (typeof tags === "string") return [tags];
  return Array.isArray(tags) ? tags.filter((tag) => typeof tag === "string") : [];
}

/** Posts grouped by tag (newest first), keyed by slug, named as first written. */
function groupByTag(
  posts: readonly CollectionItem[],
): Map<string, TagSummary & { posts: CollectionItem[] }> {
  const groups = new Map<string, TagSummary & { posts: CollectionItem[] }>();
  for (const post of posts) {
    for (const tag of postTags(post)) {
      const slug = tagSlug(tag);
      if (!slug) continue;
      const group = groups.get(slug) ?? {
        tag,
        slug,
        url: tagUrl(tag),
        postCount: 0,
        posts: [],
      };
      if (!group.posts.includes(post)) group.posts.push(post);
      group.postCount = group.posts.length;
      groups.set(slug, group);
    }
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

/** Every tag with its post count, by name, for the tags index. */
export function tagSummaries(posts: readonly CollectionItem[]): TagSummary[] {
  return [...groupByTag(posts).values()].map(({ posts: _posts, ...summary }) => summary);
}

/** One entry per page of every tag, for a template paginated one entry at a time. */
export function tagPages(
  posts: readonly CollectionItem[],
  perPage = POSTS_PER_PAGE,
): TagPage[] {
  return [...groupByTag(posts).values()].flatMap((group) => {
    const pageCount = Math.max(1, Math.ceil(group.posts.length / perPage));
    const urlOf = (page: number) =>
      page === 1 ? group.url : `${group.url}page/${page}/`;
    return Array.from({ length: pageCount }, (_, index) => ({
      tag: group.tag,
      slug: group.slug,
      url: urlOf(index + 1),
      posts: group.posts.slice(index * perPage, (index + 1) * perPage),
      postCount: group.postCount,
      pageNumber: index + 1,
      pageCount,
      previousUrl: index > 0 ? urlOf(index) : undefined,
      nextUrl: index + 1 < pageCount ? urlOf(index + 2) : undefined,
    }));
  });
}

/**
 * A gated post's entry says where it continues; its `content` is the teaser
 * already, so the feed never holds more than the teaser page does.
 */
function feedHtml(item: CollectionItem, site: SiteInfo): string {
  const gate = gateOf(item);
  const body = item.content ?? "";
  if (!gate?.gated) return body;
  const url = absoluteUrl(item.url, site.url);
  return `${body}<p><em>This post continues for ${escapeHtml(gate.tierName)} readers. <a href="${escapeHtml(url)}">Read it on ${escapeHtml(site.name)}</a>.</em></p>`;
}

/** The JSON Feed (version 1.1) of the published posts, as text. */
export function jsonFeed(posts: readonly CollectionItem[], site: SiteInfo): string {
  const feed = {
    version: "https://jsonfeed.org/version/1.1",
    title: site.name,
    description: site.description || undefined,
    home_page_url: absoluteUrl("/", site.url),
    feed_url: absoluteUrl("/feed.json", site.url),
    language: site.language,
    authors: site.author ? [{ name: site.author }] : undefined,
    items: publishedOnly(posts).map((item) => {
      const gate = gateOf(item);
      const url = absoluteUrl(item.url, site.url);
      return {
        id: url,
        url,
        title: String(item.data.title ?? ""),
        content_html: feedHtml(item, site),
        summary: gate?.summary || undefined,
        date_published: item.date.toISOString(),
        tags: postTags(item),
        _tierwall: { tier: gate?.tier, tier_name: gate?.tierName, gated: gate?.gated },
      };
    }),
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}

export interface SearchEntry {
  title: string;
  url: string;
  tier: string;
  tierName: string;
  gated: boolean;
  date: string;
  tags: string[];
  /** The teaser's first paragraph for a gated post; never text below the marker. */
  summary: string;
}

/** The site's search data: what a client-side search may match against. */
export function searchIndex(posts: readonly CollectionItem[]): string {
  const entries: SearchEntry[] = publishedOnly(posts).map((item) => {
    const gate = gateOf(item);
    return {
      title: String(item.data.title ?? ""),
      url: item.url,
      tier: gate?.tier ?? "",
      tierName: gate?.tierName ?? "",
      gated: gate?.gated ?? false,
      date: item.date.toISOString(),
      tags: postTags(item),
      summary: gate?.summary ?? "",
    };
  });
  return `${JSON.stringify(entries)}\n`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export interface SitemapEntry {
  url: string;
  lastmod: Date | undefined;
}

/**
 * Every indexable page once, by URL: pages marked `noindex`, drafts and files
 * that are not pages (feeds, search data) stay out. A gated post is listed by
 * its URL only; its teaser is what a crawler will find there.
 */
export function sitemapEntries(items: readonly CollectionItem[]): SitemapEntry[] {
  const entries = new Map<string, SitemapEntry>();
  for (const item of items) {
    const gate = gateOf(item);
    if (item.data.noindex || gate?.draft || !isPageUrl(item.url)) continue;
    const lastmod = gate && !gate.gated ? item.date : undefined;
    entries.set(item.url, { url: item.url, lastmod });
  }
  return [...entries.values()].sort((a, b) => a.url.localeCompare(b.url));
}

function isPageUrl(url: unknown): url is string {
  return typeof url === "string" && (url.endsWith("/") || url.endsWith(".html"));
}
