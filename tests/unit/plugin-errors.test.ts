import { lstat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
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

  it("stops on a paywall marker inside a paragraph", async () => {
    const error = await buildError({
      "posts/inline.md": post(
        { title: "Inline", tier: "core" },
        "Open <!-- paywall --> closed.",
      ),
    });

    expect(error.message).toContain("posts/inline.md");
    expect(error.message).toContain("line of its own");
  });

  it("publishes nothing when the build fails", async () => {
    await buildError({
      "posts/bad.md": post({ title: "Bad", tier: "platinum" }, "Body."),
    });

    await expect(lstat(site?.distDir ?? "")).rejects.toThrow();
  });
});
