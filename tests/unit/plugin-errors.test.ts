import { lstat } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildSite } from "../../plugin/build.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

// Each test builds a small publication in a temp folder with the real config
// and theme, so these take a second or two each.
const BUILD_TIMEOUT = 60_000;

let site: FixtureSite | undefined;

afterEach(async () => {
  await site?.remove();
  site = undefined;
});

async function buildError(files: Record<string, string>): Promise<Error> {
  site = await createFixtureSite(files);
  const outcome = await buildSite({
    contentDir: site.contentDir,
    distDir: site.distDir,
    quiet: true,
  }).then(
    () => new Error("the build was expected to fail"),
    (error: unknown) => error as Error,
  );
  return outcome;
}

describe("build errors name the file and the fix", { timeout: BUILD_TIMEOUT }, () => {
  it("stops on an unknown tier, listing the valid ones", async () => {
    const error = await buildError({
      "posts/gold-post.md": post({ title: "Gold", tier: "gold" }, "Body."),
    });

    expect(error.message).toContain("posts/gold-post.md");
    expect(error.message).toContain('unknown tier "gold"');
    expect(error.message).toContain("free, spark, core, lightning");
    expect(error.message).toContain("Fix:");
  });

  it("stops when two posts would share a URL", async () => {
    const error = await buildError({
      "posts/twins.md": post({ title: "Twin one" }, "One."),
      "posts/twins/index.md": post({ title: "Twin two" }, "Two."),
    });

    expect(error.message).toContain("/posts/twins/");
    expect(error.message).toContain("posts/twins.md");
    expect(error.message).toContain("posts/twins/index.md");
    expect(error.message).toContain("rename one of the files");
  });

  it("stops when a page claims a gated post's URL", async () => {
    const error = await buildError({
      "posts/runbook.md": post(
        { title: "Runbook", tier: "core" },
        "Open.\n\n<!-- paywall -->\n\nClosed.",
      ),
      "elsewhere.md": post({ title: "Squatter", permalink: "/posts/runbook/" }, "Mine."),
    });

    expect(error.message).toContain("/posts/runbook/");
    expect(error.message).toContain("elsewhere.md");
    expect(error.message).toContain("posts/runbook.md");
  });

  it("stops on a post without a title", async () => {
    const error = await buildError({
      "posts/untitled.md": post({ tier: "spark" }, "Body."),
    });

    expect(error.message).toContain("posts/untitled.md");
    expect(error.message).toContain("add `title:");
  });

  it("stops on a paywall marker inside a paragraph, naming its line", async () => {
    const error = await buildError({
      "posts/inline.md": post(
        { title: "Inline", tier: "core" },
        "Open <!-- paywall --> closed.",
      ),
    });

    expect(error.message).toContain("posts/inline.md");
    expect(error.message).toContain(
      "the <!-- paywall --> marker on line 5 shares its line",
    );
    expect(error.message).toContain("line of its own");
  });

  it("stops on an empty tier, saying so and listing the tiers", async () => {
    const error = await buildError({
      "posts/blank.md": post(
        { title: "Blank", tier: "" },
        "Public.\n\n<!-- paywall -->\n\nGated.",
      ),
    });

    expect(error.message).toContain("posts/blank.md: `tier:` is empty");
    expect(error.message).toContain("free, spark, core, lightning");
    expect(error.message).not.toContain("tier: free");
    expect(error.message).toContain("Fix: set `tier:` to one of");
  });

  it("stops on a tier that is an empty string, without a marker too", async () => {
    const error = await buildError({
      "posts/quoted.md": post({ title: "Quoted", tier: '""' }, "Body."),
    });

    expect(error.message).toContain("posts/quoted.md: `tier:` is empty");
  });

  it("stops on a post with no front matter, showing the lines to add", async () => {
    const error = await buildError({
      "posts/bare.md": "Just a paragraph, no front matter at all.\n",
    });

    expect(error.message).toContain("posts/bare.md: the post has no front matter");
    expect(error.message).toContain("Fix: start the file with front matter");
    expect(error.message).toContain("\n      ---\n      title: Your headline\n      ---");
  });

  it("stops on a month that does not exist, which YAML would roll over", async () => {
    const error = await buildError({
      "posts/overflow.md": post({ title: "Overflow", date: "2026-13-45" }, "Body."),
    });

    expect(error.message).toContain("posts/overflow.md");
    expect(error.message).toContain("`date: 2026-13-45` is not a real date");
    expect(error.message).toContain("Fix: write the date as YYYY-MM-DD");
  });

  it("stops on a date that is a word", async () => {
    const error = await buildError({
      "posts/someday.md": post({ title: "Someday", date: "someday" }, "Body."),
    });

    expect(error.message).toContain("posts/someday.md");
    expect(error.message).toContain("`date: someday` is not a real date");
  });

  it("stops on a quoted date that does not exist", async () => {
    const error = await buildError({
      "posts/leap.md": post({ title: "Leap", date: '"2026-02-29"' }, "Body."),
    });

    expect(error.message).toContain("posts/leap.md");
    expect(error.message).toContain("`date: 2026-02-29` is not a real date");
  });

  it("stops on a paywall marker in a free post", async () => {
    const error = await buildError({
      "posts/open.md": post(
        { title: "Open", tier: "free" },
        "Public.\n\n<!-- paywall -->\n\nAlso public.",
      ),
    });

    expect(error.message).toContain("posts/open.md");
    expect(error.message).toContain(
      "is free (tier: free) but has a <!-- paywall --> marker on line 7",
    );
    expect(error.message).toContain("Fix: remove the marker or set a paid tier");
  });

  it("says a post without a tier is free when it has a marker", async () => {
    const error = await buildError({
      "posts/untiered.md": post(
        { title: "Untiered" },
        "Public.\n\n<!-- paywall -->\n\nAlso public.",
      ),
    });

    expect(error.message).toContain(
      "posts/untiered.md: this post is free (it has no `tier:`) but has a <!-- paywall -->",
    );
  });

  it("builds a free post that shows the marker in code", async () => {
    site = await createFixtureSite({
      "posts/guide.md": post(
        { title: "Guide" },
        "Write `<!-- paywall -->` alone:\n\n```\nTeaser.\n\n<!-- paywall -->\n```\n",
      ),
    });
    await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });

    const page = await site.read("public/posts/guide/index.html");
    expect(page).toContain("Teaser.\n\n&lt;!-- paywall --&gt;\n</code></pre>");
  });

  it("stops on front matter that is not YAML, naming the file and the line", async () => {
    const error = await buildError({
      "posts/colon.md": "---\ntitle: Postgres: a field guide\ntier: core\n---\nBody.\n",
    });

    expect(error.message).toContain("posts/colon.md");
    expect(error.message).toContain("the front matter is not valid YAML on line 2");
    expect(error.message).toContain("Fix: check that line");
  });

  it("stops on a draft flag that is neither true nor false", async () => {
    const error = await buildError({
      "posts/maybe.md": post({ title: "Maybe", draft: "yes" }, "Body."),
    });

    expect(error.message).toContain("posts/maybe.md");
    expect(error.message).toContain("`draft: yes` is neither true nor false");
    expect(error.message).toContain("Fix: write `draft: true`");
  });

  it("publishes nothing when the build fails", async () => {
    await buildError({
      "posts/bad.md": post({ title: "Bad", tier: "platinum" }, "Body."),
    });

    await expect(lstat(site?.distDir ?? "")).rejects.toThrow();
  });
});

async function buildWarnings(files: Record<string, string>): Promise<string[]> {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  site = await createFixtureSite(files);
  try {
    const result = await buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual(result.warnings);
    return result.warnings;
  } finally {
    warn.mockRestore();
  }
}

describe("build warnings", { timeout: BUILD_TIMEOUT }, () => {
  it("warns once, naming the file, about a gated post with no marker", async () => {
    const warnings = await buildWarnings({
      "posts/closed.md": post({ title: "Closed", tier: "core" }, "All of it is gated."),
      "posts/open.md": post(
        { title: "Open", tier: "core" },
        "A public start.\n\n<!-- paywall -->\n\nThe rest.",
      ),
    });

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "posts/closed.md: no <!-- paywall --> marker found, so the whole post is gated",
    );
    expect(warnings[0]).not.toContain("no text above");
    expect(warnings[0]).toContain("Fix: put <!-- paywall --> on a line of its own");
    expect(warnings[0]).toContain("or add `teaser:");
  });

  it("names the line of a mistyped marker", async () => {
    const [warning] = await buildWarnings({
      "posts/typo.md": post(
        { title: "Typo", tier: "core" },
        "A public start.\n\n<!-- pay wall -->\n\nThe rest.\n\n<!-- paywall: -->",
      ),
    });

    expect(warning).toContain("posts/typo.md: no <!-- paywall --> marker found");
    expect(warning).toContain("line 7: <!-- pay wall -->");
    expect(warning).toContain("line 11: <!-- paywall: -->");
    expect(warning).toContain("Fix: write the marker exactly as <!-- paywall -->");
  });

  it("does not take a marker shown in code for a mistyped one", async () => {
    const [warning] = await buildWarnings({
      "posts/sample.md": post(
        { title: "Sample", tier: "core" },
        "```\n<!-- pay wall -->\n```\n\nAll gated.",
      ),
    });

    expect(warning).toContain("no <!-- paywall --> marker found");
    expect(warning).not.toContain("looks like one");
  });

  it("warns about a marker with nothing above it", async () => {
    const [warning] = await buildWarnings({
      "posts/top.md": post(
        { title: "Top", tier: "core" },
        "<!-- paywall -->\n\nThe rest.",
      ),
    });

    expect(warning).toContain("posts/top.md: this gated post has nothing public");
    expect(warning).toContain("no text above <!-- paywall -->");
    expect(warning).toContain("Fix: write an opening paragraph above <!-- paywall -->");
  });

  it("does not warn about a gated post with a front-matter teaser", async () => {
    site = await createFixtureSite({
      "posts/teased.md": post(
        { title: "Teased", tier: "core", teaser: "A public summary." },
        "All of it is gated.",
      ),
    });

    const result = await buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });
    expect(result.warnings).toEqual([]);
  });

  it("does not warn about a front-matter teaser beside a marker shown only in code", async () => {
    const warnings = await buildWarnings({
      "posts/howto.md": post(
        { title: "How to", tier: "core", teaser: "A public summary." },
        "Write it like this:\n\n```\n<!-- paywall -->\n```\n\nAll of it is gated.",
      ),
    });

    expect(warnings).toEqual([]);
  });
});
