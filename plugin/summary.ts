import type { MarkdownLibrary } from "./eleventy-types.ts";
import { htmlToText } from "./text.ts";

/**
 * The one-paragraph summary every public output uses for a post: `<meta>`,
 * Open Graph and Twitter descriptions, JSON-LD, feeds, the search index and
 * listings. It is cut from Markdown the caller has already judged public: the
 * teaser of a gated post, the body (or `description`) of a free one.
 */

export const SUMMARY_WORDS = 45;

export function summarizeMarkdown(markdown: string, library: MarkdownLibrary): string {
  return markdown.trim() ? summarizeHtml(library.render(markdown)) : "";
}

/** Plain text of the first paragraph of some HTML, cut at about `words` words. */
export function summarizeHtml(html: string | undefined, words = SUMMARY_WORDS): string {
  const paragraph = /<p[^>]*>([\s\S]*?)<\/p>/i.exec(html ?? "")?.[1] ?? html ?? "";
  const text = htmlToText(paragraph).replace(/\s+/g, " ").trim();
  const list = text.split(" ");
  return list.length > words ? `${list.slice(0, words).join(" ")}…` : text;
}
