import { readFile } from "node:fs/promises";
import path from "node:path";
import { defineCommand, runMain } from "citty";
import type { Manifest } from "../lib/manifest.ts";
import { buildSite } from "../plugin/build.ts";
import { isWriterError } from "../plugin/errors.ts";
import { describeLiveBuild } from "../plugin/finish-build.ts";
import { checkSiteUrl } from "../plugin/site-url.ts";

/**
 * `npm run build:site`: builds the publication into DIST_DIR (`dist` by
 * default; TIERWALL_DRAFTS=1 publishes drafts) and swaps it in. Eleventy's own
 * command line reports a writer's mistake in some forty lines (its wrappers,
 * the message twice, stack traces through the plugin); here a mistake in the
 * publication is printed once, as the plugin words it (the file, the problem,
 * `Fix:`), and the command exits 1, like `npm run dev` does. Any other failure
 * keeps its stack trace, for whoever maintains the theme or the plugin.
 *
 * SITE_URL is the address every absolute link in the build starts with. A
 * value that is not an http(s) URL stops the build in one line; no value at
 * all builds for localhost, with a warning, since such a build must not go live.
 *
 * `--input=<folder>` builds another Markdown folder than `content/`. Without
 * `--quiet`, Eleventy lists every file it writes, and its own report of a
 * failure comes with it: a mode for debugging templates, not for writers.
 */

interface BuildArgs {
  input?: string;
  quiet?: boolean;
}

const OPTIONS = ["input", "quiet"];

async function buildAndReport(args: BuildArgs): Promise<number> {
  const siteUrl = checkSiteUrl(process.env.SITE_URL);
  if (!siteUrl.ok) {
    console.error(`[build] error: ${siteUrl.error}`);
    return 1;
  }
  if (siteUrl.warning) console.warn(`[build] warning: ${siteUrl.warning}`);

  try {
    const result = await buildSite({
      contentDir: args.input ? path.resolve(args.input) : undefined,
      quiet: args.quiet === true,
    });
    if (args.quiet) await reportLiveBuild(result.distDir, result.summary);
    return 0;
  } catch (error) {
    if (isWriterError(error)) console.error(`[build] error: ${error.message}`);
    else console.error(error);
    return 1;
  }
}

/** What a quiet build keeps saying: that it is live, and Eleventy's summary. */
async function reportLiveBuild(distDir: string, summary: string): Promise<void> {
  const manifestFile = path.join(distDir, "manifest.json");
  const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as Manifest;
  console.log(describeLiveBuild(manifest));
  console.log(`[11ty] ${summary}`);
}

/**
 * Eleventy's command line took many more options (`--watch`, `--serve`,
 * `--output`, …) that a Tierwall build cannot honour; refusing them beats
 * ignoring them.
 */
function unknownOption(rawArgs: readonly string[]): string | undefined {
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] ?? "";
    const name = arg.replace(/^--(no-)?/, "").split("=")[0] ?? "";
    if (!arg.startsWith("--") || !OPTIONS.includes(name)) return arg;
    if (name === "input" && !arg.includes("=")) index++;
  }
  return undefined;
}

const main = defineCommand({
  meta: { name: "build-site", description: "Build the publication into DIST_DIR" },
  args: {
    input: { type: "string", description: "The Markdown folder (default: content)" },
    quiet: { type: "boolean", description: "Do not list each file Eleventy writes" },
  },
  async run({ args, rawArgs }) {
    const unknown = unknownOption(rawArgs);
    if (unknown === undefined) {
      process.exitCode = await buildAndReport(args);
      return;
    }
    console.error(
      `[build] unknown option ${unknown}; build:site takes --input=<folder> and --quiet`,
    );
    process.exitCode = 1;
  },
});

void runMain(main);
