import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { buildSite } from "../../plugin/build.ts";
import { listFiles } from "../../plugin/leak-scan.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

/**
 * Drafts leave no trace in a production build, and show with a badge in a
 * development build, where a gated draft is still gated.
 */

const draftSecret = "The unfinished draft reveals the acquisition price of the company.";
const files = {
  "posts/published.md": post(
    { title: "Published", date: "2026-03-01", tags: "[news]" },
    "This one is out in the world for everyone.",
  ),
  "posts/pending-deal.md": post(
    { title: "Pending deal", tier: "core", draft: "true", tags: "[news]" },
    `The deal is coming along.\n\n<!-- paywall -->\n\n${draftSecret}`,
  ),
  "posts/loose-ends/index.md": post(
    { title: "Loose ends", draft: "true", date: "2026-03-02", tags: "[scraps]" },
    "A free draft with a chart.\n\n![Chart](chart.svg)",
  ),
  "posts/loose-ends/chart.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
};

interface Build {
  site: FixtureSite;
  manifest: Manifest;
  everything: { file: string; text: string }[];
}

async function build(includeDrafts: boolean): Promise<Build> {
  const site = await createFixtureSite(files);
  const { contentDir, distDir } = site;
  await buildSite({ contentDir, distDir, quiet: true, includeDrafts });
  const manifest = JSON.parse(await site.read("manifest.json")) as Manifest;
  const root = path.join(site.distDir);
  const everything = await Promise.all(
    (await listFiles(root))
      .filter((file) => !file.includes("/assets/"))
      .map(async (file) => ({
        file,
        text: await readFile(path.join(root, file), "utf8"),
      })),
  );
  return { site, manifest, everything };
}

describe("a production build", { timeout: 60_000 }, () => {
  let production: Build;
  beforeAll(async () => {
    production = await build(false);
  }, 60_000);
  afterAll(() => production.site.remove());

  it("leaves drafts out of every file, listing, feed, sitemap and the manifest", () => {
    for (const { file, text } of production.everything) {
      for (const trace of ["Pending deal", "pending-deal", "Loose ends", "loose-ends"]) {
        expect(text, `${file} mentions ${trace}`).not.toContain(trace);
      }
    }
    expect(production.manifest.routes).toEqual({});
  });

  it("writes no page, attachment or tag page for a draft", () => {
    const names = production.everything.map(({ file }) => file);
    expect(names.filter((name) => /pending-deal|loose-ends|scraps/.test(name))).toEqual(
      [],
    );
  });
});

describe("a development build with drafts", { timeout: 60_000 }, () => {
  let development: Build;
  beforeAll(async () => {
    development = await build(true);
  }, 60_000);
  afterAll(() => development.site.remove());

  it("shows drafts with a Draft badge on their page and in the index", async () => {
    const page = await development.site.read("public/posts/loose-ends/index.html");
    const index = await development.site.read("public/posts/index.html");

    expect(page).toContain('data-testid="draft-badge"');
    expect(page).toContain('<meta name="robots" content="noindex">');
    expect(index.match(/data-testid="draft-badge"/g)).toHaveLength(2);
  });

  it("still gates a gated draft", async () => {
    expect(development.manifest.routes["/posts/pending-deal/"]?.tier).toBe("core");
    const publicFiles = development.everything.filter(({ file }) =>
      file.startsWith("public/"),
    );
    for (const { file, text } of publicFiles)
      expect(text, file).not.toContain(draftSecret);
    expect(
      await development.site.read("gated/core/posts/pending-deal/index.html"),
    ).toContain(draftSecret);
  });

  it("keeps drafts out of the feeds, the sitemap and the search index", async () => {
    for (const file of ["feed.xml", "feed.json", "sitemap.xml", "search.json"]) {
      const text = await development.site.read(`public/${file}`);
      expect(text, file).not.toContain("loose-ends");
      expect(text, file).not.toContain("pending-deal");
      expect(text, file).toContain("published");
    }
  });
});
