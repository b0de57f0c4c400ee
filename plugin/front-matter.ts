import { assertValidDate, rawDateLine } from "./dates.ts";
import { fullEditionSource } from "./editions.ts";
import type { EleventyConfig } from "./eleventy-types.ts";
import { TierwallBuildError } from "./errors.ts";
import { countLineBreaks, lineBounds } from "./source-file.ts";

/**
 * Reading front matter with the file's name at hand. Eleventy reads YAML
 * through a replaceable engine and passes it the template's path; wrapping its
 * own engine lets a syntax error or an impossible date stop the build with a
 * message that names the file and the line, instead of a parser's stack trace.
 */

type YamlEngine = (text: string, options?: Record<string, unknown>) => unknown;

export function checkFrontMatterOnRead(eleventyConfig: EleventyConfig): void {
  const parseYaml = eleventyConfig.frontMatterParsingOptions?.engines?.yaml;
  if (typeof parseYaml !== "function") {
    throw new Error(
      "[build] Eleventy no longer exposes its YAML front matter engine; " +
        "plugin/front-matter.ts must be updated for this Eleventy version",
    );
  }

  const readYaml: YamlEngine = (text, options) => {
    const file = sourceFile(options?.filePath);
    const data = parseOrExplain(parseYaml as YamlEngine, text, file);
    const date = rawDateLine(text);
    if (date !== undefined && date !== "") assertValidDate(file, date);
    return data;
  };
  eleventyConfig.setFrontMatterParsingOptions({ engines: { yaml: readYaml } });
}

function parseOrExplain(parseYaml: YamlEngine, text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const { reason, mark } = error as { reason?: string; mark?: { line?: number } };
    const line =
      typeof mark?.line === "number" ? ` on line ${failingLine(parseYaml, text)}` : "";
    throw new TierwallBuildError(
      file,
      `the front matter is not valid YAML${line}: ${reason ?? String(error)}`,
      "check that line: each entry is `key: value` on its own line; put quotes around " +
        'a value that contains a colon or starts with a quote or bracket (`title: "Postgres: ' +
        'a field guide"`); indent list items the same way',
    );
  }
}

/**
 * The file's line (from 1) where the YAML that fails begins. The parser marks
 * where it gave up, which for a quote or bracket left open is a later line, or
 * past the end of the front matter: not the line to fix. That line is the one
 * after the last whose front matter, read up to it, still parses.
 *
 * The engine's text starts right after the opening `---`, on the file's first
 * line, so its line N (from 0) is the file's line N + 1.
 */
function failingLine(parseYaml: YamlEngine, text: string): number {
  for (let line = countLineBreaks(text) - 1; line >= 0; line--) {
    if (parsesUpTo(parseYaml, text, line)) return line + 2;
  }
  return 1;
}

/** Whether the text's lines 0 to `line` (from 0) parse on their own. */
function parsesUpTo(parseYaml: YamlEngine, text: string, line: number): boolean {
  try {
    parseYaml(text.slice(0, lineBounds(text, line).end));
    return true;
  } catch {
    return false;
  }
}

/** The Markdown file a writer knows, also for a gated post's full edition. */
function sourceFile(filePath: unknown): string {
  const file = typeof filePath === "string" ? filePath : "(unknown file)";
  return fullEditionSource(file) ?? file;
}
