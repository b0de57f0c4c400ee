import { readdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import {
  type FileMatches,
  listTextFiles,
  searchFiles,
  type TextFile,
} from "./bundle-search.ts";
import type { MarkdownLibrary } from "./eleventy-types.ts";
import type { GatedPost } from "./posts.ts";
import { type SearchWorkers, startSearchWorkers } from "./scan-workers.ts";
import { SentenceIndex } from "./sentence-index.ts";
import {
  htmlToText,
  isDistinctiveSentence,
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

export interface ScanOptions {
  /**
   * Threads to search with. By default one per core (up to four) once the
   * public bundle is large enough to be worth starting them, else none.
   */
  threads?: number;
}

/** Below this much public text, starting worker threads costs more than it saves. */
const PARALLEL_SCAN_BYTES = 16 * 1024 * 1024;
const MAX_THREADS = 4;

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
 * plugin/sentence-index.ts and plugin/bundle-search.ts). A post leaks into a
 * file when any of its sentences occurs in any view of it; the leak names the
 * first such sentence.
 */
export async function scanForLeaks(
  publicDir: string,
  posts: readonly GatedPost[],
  markdown: MarkdownLibrary,
  options: ScanOptions = {},
): Promise<Leak[]> {
  const files = await listTextFiles(publicDir);
  const threads = options.threads ?? defaultThreads(files);
  const workers =
    threads > 1 ? startSearchWorkers(threads, workerHeapMb(files, posts)) : undefined;

  try {
    const needles = collectGatedSentences(posts, markdown);
    const matches = workers
      ? await searchInThreads(workers, publicDir, files, needles.sentences)
      : searchHere(publicDir, files, needles.sentences);
    return leaksFrom(matches, needles, posts);
  } finally {
    await workers?.close();
  }
}

function searchHere(
  publicDir: string,
  files: readonly TextFile[],
  sentences: string[],
): FileMatches[] {
  const paths = files.map(({ file }) => file);
  return searchFiles(publicDir, paths, new SentenceIndex(sentences));
}

/**
 * The threads' heap cap is generous, but a cap must never fail a build that
 * would pass without it: a thread that runs out hands the search back to this
 * one, which is only slower.
 */
async function searchInThreads(
  workers: SearchWorkers,
  publicDir: string,
  files: readonly TextFile[],
  sentences: string[],
): Promise<FileMatches[]> {
  try {
    return await workers.search(publicDir, files, sentences);
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_WORKER_OUT_OF_MEMORY") throw error;
    await workers.close();
    return searchHere(publicDir, files, sentences);
  }
}

function defaultThreads(files: readonly TextFile[]): number {
  const bytes = files.reduce((total, { size }) => total + size, 0);
  if (bytes < PARALLEL_SCAN_BYTES) return 1;
  return Math.min(availableParallelism(), MAX_THREADS);
}

/**
 * Room for a worker's index and for the views of the largest file, many times
 * over: the cap only keeps V8 from growing the heap long before it needs to.
 */
function workerHeapMb(files: readonly TextFile[], posts: readonly GatedPost[]): number {
  const largestFile = files[0]?.size ?? 0;
  const gatedText = posts.reduce((total, post) => total + post.parts.gated.length, 0);
  return 512 + Math.ceil((16 * (largestFile + gatedText)) / (1024 * 1024));
}

interface GatedSentences {
  /** Each distinct sentence once, however many posts share it. */
  sentences: string[];
  /** For each sentence, the posts that have it and its place among their sentences. */
  owners: { post: number; order: number }[][];
}

function collectGatedSentences(
  posts: readonly GatedPost[],
  markdown: MarkdownLibrary,
): GatedSentences {
  const ids = new Map<string, number>();
  const owners: GatedSentences["owners"] = [];

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
  return { sentences: [...ids.keys()], owners };
}

/** Leaks by file path, then by the posts' order: the order a writer reads them in. */
function leaksFrom(
  matches: readonly FileMatches[],
  needles: GatedSentences,
  posts: readonly GatedPost[],
): Leak[] {
  return [...matches]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .flatMap((match) => leaksInFile(match, needles, posts));
}

/** One leak per post found in the file, with its first sentence found there. */
function leaksInFile(
  { file, ids }: FileMatches,
  needles: GatedSentences,
  posts: readonly GatedPost[],
): Leak[] {
  const firstFound = new Map<number, { order: number; id: number }>();
  for (const id of ids) {
    for (const { post, order } of needles.owners[id] ?? []) {
      const known = firstFound.get(post);
      if (!known || order < known.order) firstFound.set(post, { order, id });
    }
  }
  return [...firstFound.entries()]
    .sort(([a], [b]) => a - b)
    .map(([post, { id }]) => ({
      post: posts[post] as GatedPost,
      file,
      sentence: needles.sentences[id] as string,
    }));
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
