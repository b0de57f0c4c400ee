import { readFileSync } from "node:fs";

/**
 * Lines of a post as the writer sees them in their editor. Eleventy hands the
 * plugin a post's body without its front matter; messages that point at a
 * line count from the top of the file, so they read the file again (only when
 * there is something to report).
 */

const LINE_BREAK = /\r\n?|\n/g;

export function countLineBreaks(text: string): number {
  return text.match(LINE_BREAK)?.length ?? 0;
}

/** Where line `line` (from 0) starts and ends in `text`, its line break left out. */
export function lineBounds(text: string, line: number): { start: number; end: number } {
  const breaks = new RegExp(LINE_BREAK.source, "g");
  let start = 0;
  for (let index = 0; index < line; index++) {
    const found = breaks.exec(text);
    if (!found) return { start: text.length, end: text.length };
    start = found.index + found[0].length;
  }
  const next = breaks.exec(text);
  return { start, end: next ? next.index : text.length };
}

/** The file's line number (from 1) of line `bodyLine` (from 0) of the post's body. */
export function fileLineOfBody(file: string, body: string, bodyLine: number): number {
  return linesAboveBody(file, body) + bodyLine + 1;
}

function linesAboveBody(file: string, body: string): number {
  const source = readSource(file);
  if (source?.endsWith(body)) {
    return countLineBreaks(source.slice(0, source.length - body.length));
  }
  // Eleventy changed the body on its way in: count the front matter instead.
  const frontMatter = source === undefined ? undefined : FRONT_MATTER.exec(source);
  return frontMatter ? countLineBreaks(frontMatter[0]) : 0;
}

// The opening `---` must be the file's very first line, as Eleventy requires.
const OPENING_FENCE = /^\uFEFF?---[ \t]*(\r\n?|\n)/;
const FRONT_MATTER =
  /^\uFEFF?---[ \t]*(\r\n?|\n)(?:[\s\S]*?(\r\n?|\n))?---[ \t]*(\r\n?|\n|$)/;

/** Whether the file starts with front matter; true when it cannot be read. */
export function hasFrontMatter(file: string): boolean {
  const source = readSource(file);
  return source === undefined || OPENING_FENCE.test(source);
}

function readSource(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
