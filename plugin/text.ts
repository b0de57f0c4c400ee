/**
 * Turning HTML, XML and JSON back into plain prose, so the leak scan can compare
 * what a gated post says with what the public bundle says, whatever markup,
 * escaping or quoting sits in between.
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  copy: "©",
  reg: "®",
  trade: "™",
  times: "×",
  middot: "·",
  bull: "•",
};

const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/i;
const ENTITIES = new RegExp(ENTITY.source, "gi");
const TAG = /<[^>]*>/;

export function decodeEntities(text: string): string {
  return text.replace(ENTITIES, (entity, body: string) => {
    if (body[0] === "#") {
      const hex = body[1] === "x" || body[1] === "X";
      const code = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
      return Number.isFinite(code) && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}

const BLOCK_TAG =
  /<\/?(p|div|li|ul|ol|h[1-6]|pre|blockquote|section|article|header|footer|aside|nav|main|tr|td|th|table|figure|figcaption|dt|dd|br|hr|title|entry|summary|content)\b[^>]*>/gi;

/** Whether decodeEntities could change the text. */
export function containsEntity(text: string): boolean {
  return ENTITY.test(text);
}

/** Whether htmlToText could change the text: a tag, a comment or an entity. */
export function containsMarkup(text: string): boolean {
  return TAG.test(text) || ENTITY.test(text);
}

/** Visible text of an HTML fragment: blocks become lines, inline tags vanish. */
export function htmlToText(html: string): string {
  const withoutComments = html.replace(/<!--[\s\S]*?-->/g, " ");
  const withLines = withoutComments.replace(BLOCK_TAG, "\n");
  return decodeEntities(withLines.replace(/<[^>]*>/g, ""));
}

const CURLY_QUOTES = /[‘’‚‛′“”„‟″]/g;
const STRAIGHT_QUOTES: Record<string, string> = {
  "‘": "'",
  "’": "'",
  "‚": "'",
  "‛": "'",
  "′": "'",
  "“": '"',
  "”": '"',
  "„": '"',
  "‟": '"',
  "″": '"',
};
// Every run of whitespace becomes one space. A run that already is one space,
// the commonest by far, is not matched at all: on a large publication that
// saves the regex engine a replacement per word.
const WHITESPACE_RUN = /[^\S ]\s*| \s+/g;

/** Lowercase, straight quotes, single spaces: the form every comparison uses. */
export function normalizeForSearch(text: string): string {
  return text
    .toLowerCase()
    .replace(CURLY_QUOTES, (quote) => STRAIGHT_QUOTES[quote] ?? quote)
    .replace(WHITESPACE_RUN, " ")
    .trim();
}

/** Sentences of plain text: split at line breaks and after . ! ? followed by a space. */
export function splitSentences(text: string): string[] {
  return text
    .split(/\n+/)
    .flatMap((line) => line.split(/(?<=[.!?…])["”’')\]]*\s+/))
    .map((sentence) => sentence.replace(/\s+/g, " ").trim())
    .filter(Boolean);
}

/** Long enough that finding it elsewhere means it was copied, not coincidence. */
export function isDistinctiveSentence(sentence: string): boolean {
  return sentence.length >= 24 && sentence.split(" ").length >= 5;
}

/** All strings inside a JSON document, one per line; the raw text if it isn't JSON. */
export function jsonToText(source: string): string {
  try {
    const strings: string[] = [];
    collectStrings(JSON.parse(source), strings);
    return strings.join("\n");
  } catch {
    return source;
  }
}

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (value && typeof value === "object") {
    for (const item of Object.values(value)) collectStrings(item, into);
  }
}
