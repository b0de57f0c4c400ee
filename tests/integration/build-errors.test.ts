import { spawn } from "node:child_process";
import { once } from "node:events";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { createFixtureSite, type FixtureSite, post } from "../unit/plugin-fixture.ts";

/**
 * `npm run build:site` as a writer runs it, on a publication of the test's
 * own: what it prints when a post is wrong, and its exit code.
 */

const BUILD_TIMEOUT = 60_000;

let site: FixtureSite | undefined;

afterEach(async () => {
  await site?.remove();
  site = undefined;
});

interface BuildRun {
  code: number | null;
  output: string;
  lines: string[];
}

/** Runs the build; SITE_URL is the local address unless `env` says otherwise. */
async function buildSiteCommand(
  files: Record<string, string>,
  env: Record<string, string | undefined> = {},
): Promise<BuildRun> {
  site = await createFixtureSite(files);
  const buildEnv: NodeJS.ProcessEnv = {
    ...process.env,
    SITE_URL: "http://localhost:3000",
    ...env,
  };
  for (const [name, value] of Object.entries(buildEnv)) {
    if (value === undefined) delete buildEnv[name];
  }
  const child = spawn("npm", ["run", "build:site", "--", `--input=${site.contentDir}`], {
    cwd: repoRoot,
    env: { ...buildEnv, DIST_DIR: site.distDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, "close")) as [number | null];
  return { code, output, lines: output.split("\n").filter((line) => line.trim()) };
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe("npm run build:site", { timeout: BUILD_TIMEOUT }, () => {
  it("prints a writer's mistake once, with the file and the fix, and exits 1", async () => {
    const run = await buildSiteCommand({
      "posts/gold-post.md": post({ title: "Gold", tier: "gold" }, "Body."),
    });

    expect(run.code).toBe(1);
    // npm's two lines naming the script, then the message and its Fix: line.
    expect(run.lines, run.output).toHaveLength(4);
    expect(run.output).toContain('posts/gold-post.md: unknown tier "gold"');
    expect(run.output).toContain(
      "Fix: set `tier:` to one of free, spark, core, lightning",
    );
    expect(occurrences(run.output, 'unknown tier "gold"')).toBe(1);
    expect(run.output).not.toMatch(/^\s+at /m);
    expect(run.output).not.toContain("[11ty]");
    await expect(lstat(site?.distDir ?? "")).rejects.toThrow();
  });

  it("reports a front matter mistake the same way", async () => {
    const run = await buildSiteCommand({
      "posts/colon.md": "---\ntitle: Postgres: a field guide\n---\nBody.\n",
    });

    expect(run.code).toBe(1);
    expect(run.lines, run.output).toHaveLength(4);
    expect(run.output).toContain("posts/colon.md: the front matter is not valid YAML");
    expect(run.output).toContain("Fix: check that line");
  });

  // Lines as the writer's editor shows them, the opening `---` being line 1.
  it.each([
    ["on the first line", "---\ntitle: [unclosed\n---\nBody.\n", 2],
    ["with CRLF line ends", "---\r\ntitle: [unclosed\r\n---\r\nBody.\r\n", 2],
    ["left open above more lines", "---\ntitle: [unclosed\ntier: core\n---\nBody.\n", 2],
    [
      "on a later line",
      '---\ntitle: Fine\ntier: core\nteaser: "Quoted" and not\n---\n',
      4,
    ],
    [
      "in a quoted value that never closes",
      '---\ntitle: Fine\nteaser: "Starts here\n  and goes on\ntier: core\n---\nBody.\n',
      3,
    ],
  ])("names the file's line of a YAML mistake %s", async (_, source, line) => {
    const run = await buildSiteCommand({ "posts/broken.md": source });

    expect(run.code).toBe(1);
    expect(run.output).toContain(
      `posts/broken.md: the front matter is not valid YAML on line ${line}:`,
    );
  });

  it("warns that a teaser in front matter wins over the marker, naming its line", async () => {
    const run = await buildSiteCommand({
      "posts/both.md": post(
        { title: "Both", tier: "core", teaser: "The summary everyone reads." },
        "The opening the writer meant as public.\n\n<!-- paywall -->\n\nThe rest.",
      ),
    });

    expect(run.code, run.output).toBe(0);
    // Outside the project, the file is named by its absolute path.
    const file = path.join(site?.contentDir ?? "", "posts/both.md");
    expect(run.output).toContain(
      `[build] warning: ${file}: this gated post has both \`teaser:\` and a ` +
        "<!-- paywall --> marker on line 8; the `teaser:` wins, so the text above the " +
        "marker is gated with the rest of the post\n  Fix: remove one of them",
    );
    const teaserPage = (await site?.read("public/posts/both/index.html")) ?? "";
    expect(teaserPage).toContain("The summary everyone reads.");
    expect(teaserPage).not.toContain("The opening the writer meant as public.");
  });

  it("keeps the stack trace of a failure that is not a writer's", async () => {
    const broken = `export default class Broken {
      data() { return { permalink: "/broken/" }; }
      render() { throw new Error("the template itself is broken"); }
    }`;
    const run = await buildSiteCommand({ "broken.11ty.js": broken });

    expect(run.code).toBe(1);
    expect(run.output).toContain("the template itself is broken");
    expect(run.output).toMatch(/^\s+at /m);
  });

  it("builds a good publication, says it is live and exits 0", async () => {
    const run = await buildSiteCommand({
      "posts/fine.md": post(
        { title: "Fine", tier: "core" },
        "Open.\n\n<!-- paywall -->\n\nClosed.",
      ),
    });

    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\[build\] \S+ is live: 1 gated routes/);
    expect(run.output).toMatch(/\[11ty\] .*Wrote \d+ files/);
    expect((await lstat(site?.distDir ?? "")).isSymbolicLink()).toBe(true);
  });

  it("warns in one line that links point to localhost when SITE_URL is not set", async () => {
    const run = await buildSiteCommand(
      { "posts/fine.md": post({ title: "Fine" }, "Open.") },
      { SITE_URL: undefined, PORT: undefined },
    );

    expect(run.code, run.output).toBe(0);
    const warnings = run.lines.filter((line) => line.includes("warning"));
    expect(warnings).toEqual([
      "[build] warning: SITE_URL is not set: links in the sitemap, feeds and page " +
        "metadata point to http://localhost:3000. Set SITE_URL to the site's address " +
        "for a build you publish.",
    ]);
  });

  it("links the sitemap, the feeds and each page to SITE_URL, without a warning", async () => {
    const run = await buildSiteCommand(
      {
        "posts/fine.md": post(
          { title: "Fine", tier: "core" },
          "Open.\n\n<!-- paywall -->\n\nClosed.",
        ),
      },
      { SITE_URL: "https://stacker.example" },
    );

    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain("warning");
    const files = {
      sitemap: await site?.read("public/sitemap.xml"),
      feed: await site?.read("public/feed.xml"),
      page: await site?.read("public/posts/fine/index.html"),
      tierFeed: await site?.read("gated/core/feeds/full.xml"),
    };
    const postUrl = "https://stacker.example/posts/fine/";
    expect(files.sitemap).toContain(`<loc>${postUrl}</loc>`);
    expect(files.feed).toContain(postUrl);
    expect(files.page).toContain(`<link rel="canonical" href="${postUrl}">`);
    expect(files.tierFeed).toContain(postUrl);
    for (const [name, text] of Object.entries(files)) {
      expect(text, name).not.toContain("localhost");
    }
  });

  it("refuses a SITE_URL that is not an http(s) URL, in one line, and builds nothing", async () => {
    const run = await buildSiteCommand(
      { "posts/fine.md": post({ title: "Fine" }, "Open.") },
      { SITE_URL: "stacker.example" },
    );

    expect(run.code).toBe(1);
    // npm's two lines naming the script, then the refusal.
    expect(run.lines, run.output).toHaveLength(3);
    expect(run.lines[2]).toBe(
      '[build] error: SITE_URL "stacker.example" is not an http(s) URL. ' +
        "Fix: set SITE_URL to the site's address, such as https://stacker.example",
    );
    await expect(lstat(site?.distDir ?? "")).rejects.toThrow();
  });
});
