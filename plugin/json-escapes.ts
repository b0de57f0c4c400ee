/**
 * Text inside JSON strings (JSON files, JSON-LD and other JSON embedded in a
 * page, JavaScript literals) as a reader would see it, with its escapes undone:
 * `\"` becomes `"`, `\u2019` becomes `’`, `\n` a line break. A gated sentence
 * with a quotation mark in it is only findable in such a file this way.
 */

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

export function decodeJsonEscapes(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_, code: string) =>
    code.length === 5
      ? String.fromCharCode(Number.parseInt(code.slice(1), 16))
      : (SIMPLE_ESCAPES[code] ?? code),
  );
}
