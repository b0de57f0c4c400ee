import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { MarkdownLibrary } from "./eleventy-types.ts";
import type { GatedPost } from "./posts.ts";
import { SentenceIndex } from "./sentence-index.ts";
import {
  containsEntity,
  containsMarkup,
  decodeEntities,
  htmlToText,
  isDistinctiveSentence,
  jsonToText,
  normalizeForSearch,
  splitSentences,
} from "./text.ts";

/**
 * The last guard before a build goes live: every distinctive sentence of every
 * gated part is searched for in every text file of the public bundle. A template
 * that prints `content` in the wrong place, a search index built from raw files,
 * a meta description cut from the body — each of them fails here, whatever the
 * reason it happened.
 */

export interface Leak {
  post: GatedPost;
  /** Path of the public file, relative to the public bundle. */
  file: string;
  sentence: string;
}

const TEXT_EXTENSIONS = new Set([
  ".html",
  ".htm",
  ".xml",
  ".json",
  ".txt",
  ".js",
  ".mjs",
  ".css",
  ".svg",
  ".md",
  ".csv",
  ".webmanifest",
  ".map",
]);

/**
 * Sentences of the gated part in search form, minus any the writer also put in
 * the teaser (those are public on purpose).
 */
export function gatedSentences(post: GatedPost, markdown: MarkdownLibrary): string[] {
  const publicText = normalizeForSearch(htmlToText(markdown.render(post.parts.teaser)));
  const sentences = splitSentences(htmlToText(markdown.render(post.parts.gated)))
    .filter(isDistinctiveSentence)
    .map(normalizeForSearch)
    .filter((sentence) => !publicText.includes(sentence));
  return [...new Set(sentences)];
}

/**
 * Every gated sentence of every post, indexed once, then each public file read
 * once and searched for all of them in one pass per view (see
 * plugin/sentence-index.ts). A post leaks into a file when any of its
 * sentences occurs in any view of it; the leak names the first such sentence.
 */
export async function scanForLeaks(
  publicDir: string,
  posts: readonly GatedPost[],
  markdown: MarkdownLibrary,
): Promise<Leak[]> {
  const needles = indexGatedSentences(posts, markdown);
  const leaks: Leak[] = [];

  for (const file of await listFiles(publicDir)) {
    if (!TEXT_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
    const source = await readFile(path.join(publicDir, file), "utf8");
    const found = new Set<number>();
    for (const view of searchableViews(file, source)) needles.index.findIn(view, found);
    if (found.size > 0) leaks.push(...leaksInFile(file, found, needles, posts));
  }
  return leaks;
}

interface GatedSentenceIndex {
  index: SentenceIndex;
  /** For each indexed sentence, the posts that have it and its place among their sentences. */
  owners: { post: number; order: number }[][];
}

/** Each distinct sentence is indexed once, however many posts share it. */
function indexGatedSentences(
  posts: readonly GatedPost[],
  markdown: MarkdownLibrary,
): GatedSentenceIndex {
  const ids = new Map<string, number>();
  const owners: GatedSentenceIndex["owners"] = [];

  for (const [post, gatedPost] of posts.entries()) {
    for (const [order, sentence] of gatedSentences(gatedPost, markdown).entries()) {
      let id = ids.get(sentence);
      if (id === undefined) {
        id = ids.size;
        ids.set(sentence, id);
        owners.push([]);
      }
      owners[id]?.push({ post, order });
    }
  }
  return { index: new SentenceIndex([...ids.keys()]), owners };
}

/** One leak per post found in the file, in the posts' order, with its first sentence. */
function leaksInFile(
  file: string,
  found: ReadonlySet<number>,
  needles: GatedSentenceIndex,
  posts: readonly GatedPost[],
): Leak[] {
  const firstFound = new Map<number, { order: number; sentence: string }>();
  for (const id of found) {
    const sentence = needles.index.sentences[id] as string;
    for (const { post, order } of needles.owners[id] ?? []) {
      const known = firstFound.get(post);
      if (!known || order < known.order) firstFound.set(post, { order, sentence });
    }
  }
  return [...firstFound.entries()]
    .sort(([a], [b]) => a - b)
    .map(([post, { sentence }]) => ({ post: posts[post] as GatedPost, file, sentence }));
}

/**
 * The same file read several ways, because a sentence can hide in an attribute
 * (raw, entities decoded), behind inline markup (tags stripped) or inside
 * escaped HTML in a feed (tags stripped twice). Each view is made only when the
 * previous one has been searched, and skipped when it could not differ from
 * one already searched (no entity to decode, no tag left to strip).
 */
function* searchableViews(file: string, source: string): Generator<string> {
  const text = file.endsWith(".json") ? jsonToText(source) : source;
  yield normalizeForSearch(text);
  if (containsEntity(text)) yield normalizeForSearch(decodeEntities(text));

  const visible = htmlToText(text);
  yield normalizeForSearch(visible);
  if (containsMarkup(visible)) yield normalizeForSearch(htmlToText(visible));
}

/** Every file under a folder, as forward-slash paths relative to it. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .map((file) => file.split(path.sep).join("/"))
    .sort();
}

export function describeLeaks(leaks: readonly Leak[]): string {
  const lines = leaks.map(
    (leak) =>
      `  - ${leak.post.inputPath} (${leak.post.tier}) leaks into public/${leak.file}:\n` +
      `      "${leak.sentence}"`,
  );
  return (
    "[build] gated text found in the public bundle; the build was not published.\n" +
    `${lines.join("\n")}\n` +
    "  Fix: find the template or data file that writes this text to a public page " +
    "(listings, feeds and <meta> tags may use only the teaser), or move the sentence " +
    "above the <!-- paywall --> marker if it is meant to be public."
  );
}
