import type { MarkdownParser, MarkdownToken } from "./eleventy-types.ts";
import { countLineBreaks } from "./source-file.ts";

/**
 * Finding the `<!-- paywall -->` marker the way the site's Markdown renderer
 * reads the post. A writer who explains the marker shows it in a code sample
 * (a fenced block, inline `code`): there it is text for the reader, not the
 * split. Only a comment that the renderer passes through as markup may split
 * a post, so the post is parsed with the renderer's own parser rather than
 * matched with patterns, and the split cannot disagree with the rendered page
 * about what is code. (Eleventy turns indented code blocks off, for one: an
 * indented marker is markup there, as it always was for Tierwall.)
 *
 * Lines here are lines of the post's body, counted from 0.
 */

export interface Lookalike {
  line: number;
  /** The line as written, trimmed: `<!-- pay wall -->`. */
  text: string;
}

export interface MarkerScan {
  /** The first marker alone on its line, outside code: where the post splits. */
  markerLine?: number;
  /** The first marker, outside code, that shares its line with other text. */
  crowdedMarkerLine?: number;
  /** HTML comments outside code that mention the paywall but are not the marker. */
  lookalikes: Lookalike[];
}

// Any case, spaces optional: `<!--paywall-->` and `<!-- PAYWALL -->` count too.
const MARKER = /^<!--[ \t]*paywall[ \t]*-->$/i;
const MARKER_ALONE = /^[ \t]*<!--[ \t]*paywall[ \t]*-->[ \t]*$/i;
const COMMENTS = /<!--[\s\S]*?-->/g;
const MENTIONS_PAYWALL = /pay[\s_-]*wall/i;

export function scanPaywallMarkers(body: string, parser: MarkdownParser): MarkerScan {
  const scan: MarkerScan = { lookalikes: [] };
  // A body that never says "paywall" holds neither a marker nor a lookalike.
  if (!MENTIONS_PAYWALL.test(body)) return scan;

  const lines = body.split(/\r\n?|\n/);
  for (const token of parser.parse(body, {})) {
    const first = token.map?.[0] ?? 0;
    if (token.type === "html_block") scanHtml(token.content, first, lines, scan);
    if (token.type === "inline") scanInline(token, lines, scan);
  }
  return scan;
}

/** Whether the body has a marker outside code, on its own line or not. */
export function hasPaywallMarker(scan: MarkerScan): boolean {
  return scan.markerLine !== undefined || scan.crowdedMarkerLine !== undefined;
}

/**
 * A marker the post cannot be split at: it shares its line with other text and
 * no marker alone on its line comes before it. Splitting at a later marker
 * would publish what the writer may have meant to gate.
 */
export function misplacedMarkerLine(scan: MarkerScan): number | undefined {
  const { markerLine, crowdedMarkerLine } = scan;
  if (crowdedMarkerLine === undefined) return undefined;
  if (markerLine !== undefined && markerLine < crowdedMarkerLine) return undefined;
  return crowdedMarkerLine;
}

function scanHtml(html: string, firstLine: number, lines: string[], scan: MarkerScan) {
  for (const comment of html.matchAll(COMMENTS)) {
    const line = firstLine + countLineBreaks(html.slice(0, comment.index));
    recordComment(comment[0], line, lines, scan);
  }
}

/**
 * Comments inside a paragraph (or a heading, a table cell). Inline tokens
 * carry no line numbers: the line is counted from the paragraph's first line
 * through the line breaks before the comment.
 */
function scanInline(paragraph: MarkdownToken, lines: string[], scan: MarkerScan) {
  const end = paragraph.map?.[1] ?? lines.length;
  let line = paragraph.map?.[0] ?? 0;
  for (const child of paragraph.children ?? []) {
    if (child.type === "html_inline") {
      scanInlineHtml(child.content, { line, end }, lines, scan);
    }
    line += lineBreaksIn(child);
  }
}

function scanInlineHtml(
  html: string,
  at: { line: number; end: number },
  lines: string[],
  scan: MarkerScan,
): void {
  for (const comment of html.matchAll(COMMENTS)) {
    const counted = at.line + countLineBreaks(html.slice(0, comment.index));
    // A code span's line breaks are not counted (the parser folds them into
    // spaces), so the count may fall short but never overshoots. The first
    // line from there that holds the marker alone is the comment's, or in a
    // contrived post one above it: a split there publishes less, never more.
    const needle = MARKER.test(comment[0]) ? MARKER_ALONE : undefined;
    const line = findLine(lines, counted, at.end, needle) ?? counted;
    recordComment(comment[0], line, lines, scan);
  }
}

function recordComment(comment: string, line: number, lines: string[], scan: MarkerScan) {
  if (MARKER.test(comment)) {
    if (MARKER_ALONE.test(lines[line] ?? "")) scan.markerLine ??= line;
    else scan.crowdedMarkerLine ??= line;
    return;
  }
  const mention = comment.search(MENTIONS_PAYWALL);
  if (mention < 0) return;
  const at = line + countLineBreaks(comment.slice(0, mention));
  scan.lookalikes.push({ line: at, text: (lines[at] ?? comment).trim() });
}

function findLine(lines: string[], from: number, to: number, pattern?: RegExp) {
  if (!pattern) return undefined;
  for (let line = from; line < to; line++) {
    if (pattern.test(lines[line] ?? "")) return line;
  }
  return undefined;
}

/** Line breaks a token stands for: soft and hard breaks, and those inside raw HTML. */
function lineBreaksIn(token: MarkdownToken): number {
  if (token.type === "softbreak" || token.type === "hardbreak") return 1;
  if (token.type === "html_inline") return countLineBreaks(token.content);
  // An image's alt text keeps its own tokens, line breaks included.
  return (token.children ?? []).reduce((sum, child) => sum + lineBreaksIn(child), 0);
}
