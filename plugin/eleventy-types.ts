/**
 * The small part of Eleventy's configuration API that Tierwall uses. Eleventy
 * ships no TypeScript types for it, so these describe only what we call.
 */

export interface EleventyDirectories {
  readonly input: string;
  readonly includes: string;
  readonly output: string;
}

export interface EleventyPageData {
  inputPath: string;
  url: string | false;
  outputPath: string | false;
  fileSlug: string;
  date: Date;
}

/** A template's data as Eleventy hands it to preprocessors and computed data. */
export type EleventyData = Record<string, unknown> & { page: EleventyPageData };

/** One written page, as passed to the `eleventy.after` event. */
export interface EleventyResult {
  inputPath: string;
  outputPath: string | false;
  url: string | false;
  content: string;
}

export interface EleventyAfterEvent {
  directories: EleventyDirectories;
  results: EleventyResult[];
}

export interface ContentMapEvent {
  inputPathToUrl: Record<string, string[]>;
  urlToInputPath: Record<string, { inputPath: string }>;
}

/** A collection item: a page with its data, as `addCollection` callbacks see it. */
export interface CollectionItem {
  inputPath: string;
  url: string;
  date: Date;
  data: Record<string, unknown>;
  /** The rendered page body without layouts; for a gated post, its teaser. */
  readonly content?: string;
}

export interface CollectionApi {
  getAll(): CollectionItem[];
}

export interface MarkdownLibrary {
  render(source: string): string;
}

/** One token of markdown-it's parse, with the fields Tierwall reads. */
export interface MarkdownToken {
  /** "html_block", "inline", "html_inline", "fence", "code_inline", "softbreak", … */
  type: string;
  content: string;
  /** Source lines [first, after last], counted from 0; null on inline tokens. */
  map: [number, number] | null;
  /** The tokens of an `inline` token's text. */
  children: MarkdownToken[] | null;
}

/** markdown-it's parser: how the site's renderer reads a post, before rendering it. */
export interface MarkdownParser {
  parse(source: string, env: object): MarkdownToken[];
}

/** Eleventy's Markdown library as `amendLibrary` hands it over: markdown-it by default. */
export type MarkdownEngine = MarkdownLibrary & Partial<MarkdownParser>;

type PreprocessorResult = string | false | undefined;

export interface EleventyConfig {
  readonly directories: EleventyDirectories;
  /** Eleventy's front matter options, with its default YAML engine under `engines`. */
  readonly frontMatterParsingOptions?: { engines?: Record<string, unknown> };
  setFrontMatterParsingOptions(options: { engines: Record<string, unknown> }): void;
  setInputDirectory(dir: string): void;
  setIncludesDirectory(dir: string): void;
  setOutputDirectory(dir: string): void;
  setUseTemplateCache(enabled: boolean): void;
  setQuietMode(quiet: boolean): void;
  addPlugin<T>(plugin: (config: EleventyConfig, options: T) => void, options: T): void;
  addGlobalData(name: string, value: unknown): void;
  addTemplate(virtualPath: string, content: string, data?: Record<string, unknown>): void;
  addPreprocessor(
    name: string,
    extensions: string,
    callback: (
      this: { inputPath: string },
      data: EleventyData,
      content: string,
    ) => PreprocessorResult | Promise<PreprocessorResult>,
  ): void;
  addDateParsing(
    callback: (this: { page: EleventyPageData }, value: unknown) => Date | undefined,
  ): void;
  addCollection(name: string, callback: (api: CollectionApi) => unknown[]): void;
  addFilter(name: string, callback: (...args: never[]) => unknown): void;
  addLayoutAlias(alias: string, path: string): void;
  addPassthroughCopy(paths: string | Record<string, string>): void;
  addWatchTarget(glob: string, options?: { resetConfig?: boolean }): void;
  amendLibrary(language: "md", callback: (library: MarkdownEngine) => void): void;
  on(
    event: "eleventy.before",
    callback: (event: { runMode: string }) => void | Promise<void>,
  ): void;
  on(event: "eleventy.contentMap", callback: (map: ContentMapEvent) => void): void;
  on(
    event: "eleventy.after",
    callback: (event: EleventyAfterEvent) => void | Promise<void>,
  ): void;
}
