import path from "node:path";
import { fileURLToPath } from "node:url";
import { prepareBuildTarget, stagingPublicDir } from "./plugin/build-target.ts";
import type { EleventyConfig } from "./plugin/eleventy-types.ts";
import tierwall from "./plugin/index.ts";
import tierwallTheme from "./theme/index.ts";
import config from "./tierwall.config.ts";

/**
 * The example publication's Eleventy config. `buildSite()` in plugin/build.ts
 * loads it (`npm run build:site`, `npm start`, the tests); Eleventy's own
 * command line can too, through tsx:
 * `node --import tsx node_modules/@11ty/eleventy/cmd.cjs --config=eleventy.config.ts`.
 */

const themeDir = fileURLToPath(new URL("./theme/", import.meta.url));

export default function (eleventyConfig: EleventyConfig) {
  const target = prepareBuildTarget(eleventyConfig);

  eleventyConfig.setInputDirectory(target.contentDir);
  eleventyConfig.setIncludesDirectory(path.relative(target.contentDir, themeDir));
  eleventyConfig.setOutputDirectory(stagingPublicDir(target));

  // Every build reads the Markdown afresh, also when a long-running process
  // (the dev server's rebuilds, the tests) builds more than once.
  eleventyConfig.setUseTemplateCache(false);

  eleventyConfig.addPlugin(tierwallTheme, { config });
  eleventyConfig.addPlugin(tierwall, { config });

  return {
    templateFormats: ["md", "njk", "11ty.js"],
    // Posts are plain Markdown: a `{{` in a code sample stays a `{{`.
    markdownTemplateEngine: false,
    htmlTemplateEngine: "njk",
  };
}
