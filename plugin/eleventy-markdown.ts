import { createRequire } from "node:module";
import type { MarkdownLibrary, MarkdownParser } from "./eleventy-types.ts";

/**
 * Markdown as Eleventy renders it out of the box: its own copy of markdown-it,
 * with raw HTML allowed and indented code blocks turned off (Eleventy's
 * defaults). A build always uses the site's library, handed over by Eleventy;
 * this is for code that cuts posts outside a build (the benchmark's plain
 * publication, unit tests) and should cut them the same way.
 */

type MarkdownIt = MarkdownLibrary & MarkdownParser & { disable(rule: string): unknown };

let library: MarkdownIt | undefined;

export function eleventyDefaultMarkdown(): MarkdownLibrary & MarkdownParser {
  library ??= createEleventyMarkdown();
  return library;
}

function createEleventyMarkdown(): MarkdownIt {
  // Resolved from Eleventy's folder: the copy Eleventy itself would load.
  const eleventyEntry = createRequire(import.meta.url).resolve("@11ty/eleventy");
  const markdownIt = createRequire(eleventyEntry)("markdown-it") as (options: {
    html: boolean;
  }) => MarkdownIt;
  const markdown = markdownIt({ html: true });
  markdown.disable("code");
  return markdown;
}
