import { assertValidDate, rawDateLine } from "./dates.ts";
import { fullEditionSource } from "./editions.ts";
import type { EleventyConfig } from "./eleventy-types.ts";
import { TierwallBuildError } from "./errors.ts";

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
    // The engine's text starts with the newline after the opening `---`, so its
    // line numbers (counted from 0) are one less than the file's.
    const line = typeof mark?.line === "number" ? ` on line ${mark.line + 1}` : "";
    throw new TierwallBuildError(
      file,
      `the front matter is not valid YAML${line}: ${reason ?? String(error)}`,
      "check that line: each entry is `key: value` on its own line; put quotes around " +
        'a value that contains a colon or starts with a quote or bracket (`title: "Postgres: ' +
        'a field guide"`); indent list items the same way',
    );
  }
}

/** The Markdown file a writer knows, also for a gated post's full edition. */
function sourceFile(filePath: unknown): string {
  const file = typeof filePath === "string" ? filePath : "(unknown file)";
  return fullEditionSource(file) ?? file;
}
