import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CollectionItem, EleventyConfig } from "../plugin/eleventy-types.ts";
import tierwallTheme from "../theme/index.ts";
import config from "../tierwall.config.ts";

/**
 * The build benchmark's baseline: the example site's Eleventy config
 * (eleventy.config.ts) with the Tierwall plugin taken out and only what the
 * theme cannot do without put back.
 *
 * Included, as in a Tierwall build: the whole theme (its layouts, partials and
 * pages, listings, feeds, sitemap and search data, filters, collections and
 * passthrough assets), the same Markdown and template settings, and a `posts`
 * collection sorted newest first. bench/generate-posts.ts writes the content
 * pre-split, with the `tierwall` data the theme reads already in each page's
 * front matter, so this build writes the same pages, byte for byte: one public
 * page per post (the teaser for gated posts) and one full page per gated post.
 *
 * Left out, because it is what the plugin adds: checking front matter, cutting
 * teasers at the marker, the full editions' virtual templates and their
 * computed data (tier, summary), moving full pages into tier bundles, placing
 * attachments per tier, the tiers' full-text feeds, the leak scan, the
 * manifest, and the staging folder with its atomic swap. Attachments are copied
 * by a passthrough copy instead.
 */

const themeDir = fileURLToPath(new URL("../theme/", import.meta.url));

export default function (eleventyConfig: EleventyConfig) {
  const inputDir = eleventyConfig.directories.input;
  eleventyConfig.setIncludesDirectory(path.relative(inputDir, themeDir));
  eleventyConfig.setUseTemplateCache(false);

  eleventyConfig.addPlugin(tierwallTheme, { config });
  eleventyConfig.addCollection("posts", (api) => listPosts(api.getAll()));
  eleventyConfig.addPassthroughCopy(findAttachments(inputDir));

  return {
    templateFormats: ["md", "njk", "11ty.js"],
    markdownTemplateEngine: false,
    htmlTemplateEngine: "njk",
  };
}

/**
 * The files beside `posts/<slug>/index.md`, mapped to the same place in the
 * output. Passthrough paths are read relative to the working directory, and
 * one entry per file works for a content folder outside the project too.
 */
function findAttachments(inputDir: string): Record<string, string> {
  const postsDir = path.join(inputDir, "posts");
  const copies: Record<string, string> = {};
  for (const entry of readdirSync(postsDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith(".md")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const output = path.relative(inputDir, file).split(path.sep).join("/");
    copies[path.relative(process.cwd(), file)] = output;
  }
  return copies;
}

/** Public post pages (the full pages stay out of collections), newest first. */
function listPosts(items: CollectionItem[]): CollectionItem[] {
  return items
    .filter((item) => item.data.tierwall !== undefined)
    .sort((a, b) => b.date.getTime() - a.date.getTime());
}
