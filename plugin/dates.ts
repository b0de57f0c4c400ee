import { TierwallBuildError } from "./errors.ts";

/**
 * Publication dates as writers type them. YAML turns `date: 2026-13-45` into a
 * real date by rolling the month and day over (it becomes February 14, 2027),
 * and Eleventy turns a word like `someday` into its own error without saying
 * what to write instead. Both are caught here, from the text the writer typed.
 */

// Eleventy's own date keywords, which it resolves from the file or git history.
const DATE_KEYWORDS = new Set([
  "last modified",
  "git last modified",
  "created",
  "git created",
]);

const DATE_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ]+(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Whether a date typed in front matter names a real day (and time). */
export function isValidDateText(text: string): boolean {
  if (DATE_KEYWORDS.has(text.trim().toLowerCase())) return true;
  const match = DATE_TEXT.exec(text.trim());
  if (!match) return false;

  const [year, month, day, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map((part) => (part === undefined ? undefined : Number(part)));
  if (year === undefined || month === undefined || day === undefined) return false;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const realDay =
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day;
  return realDay && hour < 24 && minute < 60 && second < 61;
}

/** Stops the build on a date that is not a real day, naming the file. */
export function assertValidDate(file: string, text: string): void {
  if (isValidDateText(text)) return;
  throw new TierwallBuildError(
    file,
    `\`date: ${text.trim()}\` is not a real date`,
    "write the date as YYYY-MM-DD, for example `date: 2026-09-14`, or remove the line " +
      "to use the file's creation date",
  );
}

/** The value of a top-level `date:` line as typed, without quotes or a trailing comment. */
export function rawDateLine(frontMatter: string): string | undefined {
  const line = /^date:[ \t]*(.*)$/m.exec(frontMatter)?.[1];
  if (line === undefined) return undefined;

  const quoted = /^(["'])(.*)\1/.exec(line.trim());
  if (quoted) return quoted[2];
  return line.replace(/\s+#.*$/, "").trim();
}
