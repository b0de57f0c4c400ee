import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TierwallConfig } from "../lib/config.ts";
import type { EleventyConfig, EleventyData } from "../plugin/eleventy-types.ts";
import { summarizeHtml } from "../plugin/summary.ts";
import {
  absoluteUrl,
  findTier,
  isoDate,
  jsonScript,
  newestDate,
  readableDate,
} from "./filters.ts";
import {
  jsonFeed,
  postItems,
  publishedOnly,
  searchIndex,
  sitemapEntries,
  tagPages,
  tagSummaries,
  tagUrl,
} from "./listings.ts";
import { postStructuredData } from "./structured-data.ts";

/**
 * The publication's look: layouts, partials, the reader's pages (posts index
 * and its pages, tag pages, sign up, sign in, account, 404), the machine-read
 * outputs (Atom and JSON feeds, sitemap, search index), CSS and the Alpine
 * components that talk to the server's `/api/me` and `/api/pricing`.
 *
 * The theme folder is Eleventy's includes folder (set in eleventy.config.ts).
 * Its pages are added as virtual templates, so a publication's content folder
 * holds only what writers write.
 */

export interface ThemeOptions {
  config: TierwallConfig;
}

const themeDir = fileURLToPath(new URL(".", import.meta.url));
const alpineBuild = fileURLToPath(
  new URL("../node_modules/alpinejs/dist/cdn.min.js", import.meta.url),
);

export default function tierwallTheme(
  eleventyConfig: EleventyConfig,
  { config }: ThemeOptions,
): void {
  eleventyConfig.addGlobalData("site", config.site);
  eleventyConfig.addGlobalData(
    "tiers",
    config.tiers.map((tier, rank) => ({ ...tier, rank, paid: rank > 0 })),
  );

  addLayouts(eleventyConfig);
  addPages(eleventyConfig);
  addFilters(eleventyConfig);
  addTagCollections(eleventyConfig);

  eleventyConfig.addPassthroughCopy({
    [fromCwd(path.join(themeDir, "assets"))]: "assets",
    [fromCwd(alpineBuild)]: "assets/alpine.js",
  });
}

function addLayouts(eleventyConfig: EleventyConfig): void {
  for (const name of ["base", "page", "post", "landing"]) {
    eleventyConfig.addLayoutAlias(name, `layouts/${name}.njk`);
  }

  // Posts get the post layout without writers having to ask for it.
  // (An object, not a function: Eleventy calls functions given as global data.)
  eleventyConfig.addGlobalData("eleventyComputed", {
    layout: (data: EleventyData) =>
      data.tierwall && !data.layout ? "post" : data.layout,
  });
}

function addPages(eleventyConfig: EleventyConfig): void {
  const pagesDir = path.join(themeDir, "pages");
  for (const name of readdirSync(pagesDir).filter((file) => file.endsWith(".njk"))) {
    const source = readFileSync(path.join(pagesDir, name), "utf8");
    eleventyConfig.addTemplate(`tierwall-theme/${name}`, source);
  }
}

function addFilters(eleventyConfig: EleventyConfig): void {
  eleventyConfig.addFilter("readableDate", readableDate);
  eleventyConfig.addFilter("isoDate", isoDate);
  eleventyConfig.addFilter("absoluteUrl", absoluteUrl);
  eleventyConfig.addFilter("summary", summarizeHtml);
  eleventyConfig.addFilter("newestDate", newestDate);
  eleventyConfig.addFilter("jsonScript", jsonScript);
  eleventyConfig.addFilter("findTier", findTier);
  eleventyConfig.addFilter("tagUrl", tagUrl);
  eleventyConfig.addFilter("publishedOnly", publishedOnly);
  eleventyConfig.addFilter("jsonFeed", jsonFeed);
  eleventyConfig.addFilter("searchIndex", searchIndex);
  eleventyConfig.addFilter("sitemapEntries", sitemapEntries);
  eleventyConfig.addFilter("postStructuredData", postStructuredData);
}

/** `/tags/<slug>/` pages (paginated like the index) and the `/tags/` index. */
function addTagCollections(eleventyConfig: EleventyConfig): void {
  eleventyConfig.addCollection("tagPages", (api) => tagPages(postItems(api.getAll())));
  eleventyConfig.addCollection("tagList", (api) => tagSummaries(postItems(api.getAll())));
}

/** Passthrough copy paths are read relative to the working directory. */
function fromCwd(file: string): string {
  return path.relative(process.cwd(), file) || ".";
}
