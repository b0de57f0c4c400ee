import { readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { decodeJsonEscapes } from "./json-escapes.ts";
import type { SentenceIndex } from "./sentence-index.ts";
import {
  containsEntity,
  containsMarkup,
  decodeEntities,
  htmlToText,
  jsonToText,
  normalizeForSearch,
} from "./text.ts";

/**
 * Reading the public bundle for the leak scan: which files hold text, the ways
 * each is read, and which indexed sentences each one contains. The same code
 * runs in the build's own thread and in the scan's worker threads
 * (plugin/scan-workers.ts).
 */

/** A text file of the bundle, by forward-slash path relative to it. */
export interface TextFile {
  file: string;
  size: number;
}

/** The ids of the indexed sentences found in one file. */
export interface FileMatches {
  file: string;
  ids: number[];
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

/** Every text file under a folder, largest first. */
export async function listTextFiles(root: string): Promise<TextFile[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter(
    (entry) =>
      entry.isFile() && TEXT_EXTENSIONS.has(path.extname(entry.name).toLowerCase()),
  );
  const sized = await Promise.all(
    files.map(async (entry) => {
      const absolute = path.join(entry.parentPath, entry.name);
      const file = path.relative(root, absolute).split(path.sep).join("/");
      return { file, size: (await stat(absolute)).size };
    }),
  );
  return sized.sort((a, b) => b.size - a.size);
}

/** The files, among those given, that contain indexed sentences, and which ones. */
export function searchFiles(
  root: string,
  files: readonly string[],
  index: SentenceIndex,
): FileMatches[] {
  const matches: FileMatches[] = [];
  for (const file of files) {
    const source = readFileSync(path.join(root, file), "utf8");
    const found = new Set<number>();
    for (const view of searchableViews(file, source)) index.findIn(view, found);
    if (found.size > 0) matches.push({ file, ids: [...found] });
  }
  return matches;
}

/**
 * The same file read several ways, because a sentence can hide in an attribute
 * (raw, entities decoded), in JSON inside a page such as structured data
 * (escapes undone), behind inline markup (tags stripped) or inside escaped HTML
 * in a feed (tags stripped twice). Each view is made only once the one before
 * has been searched, and skipped when it could not differ from one already
 * searched (no entity to decode, no escape to undo, no tag left to strip).
 */
function* searchableViews(file: string, source: string): Generator<string> {
  const text = file.endsWith(".json") ? jsonToText(source) : source;
  yield normalizeForSearch(text);
  if (containsEntity(text)) yield normalizeForSearch(decodeEntities(text));
  if (text.includes("\\")) {
    yield normalizeForSearch(decodeJsonEscapes(decodeEntities(text)));
  }

  const visible = htmlToText(text);
  yield normalizeForSearch(visible);
  if (containsMarkup(visible)) yield normalizeForSearch(htmlToText(visible));
}
