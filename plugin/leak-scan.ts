import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { MarkdownLibrary } from "./eleventy-types.ts";
import type { GatedPost } from "./posts.ts";
import {
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

export async function scanForLeaks(
  publicDir: string,
  posts: readonly GatedPost[],
  markdown: MarkdownLibrary,
): Promise<Leak[]> {
  const needles = posts.map((post) => ({
    post,
    sentences: gatedSentences(post, markdown),
  }));
  const leaks: Leak[] = [];

  for (const file of await listFiles(publicDir)) {
    if (!TEXT_EXTENSIONS.has(path.extname(file).toLowerCase())) continue;
    const views = searchableViews(
      file,
      await readFile(path.join(publicDir, file), "utf8"),
    );

    for (const { post, sentences } of needles) {
      const sentence = sentences.find((s) => views.some((view) => view.includes(s)));
      if (sentence) leaks.push({ post, file, sentence });
    }
  }
  return leaks;
}

/**
 * The same file read several ways, because a sentence can hide in an attribute
 * (raw, entities decoded), behind inline markup (tags stripped) or inside
 * escaped HTML in a feed (tags stripped twice).
 */
function searchableViews(file: string, source: string): string[] {
  const text = file.endsWith(".json") ? jsonToText(source) : source;
  const visible = htmlToText(text);
  return [text, decodeEntities(text), visible, htmlToText(visible)].map(
    normalizeForSearch,
  );
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
