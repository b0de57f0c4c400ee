import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { buildSite } from "../../plugin/build.ts";
import { type FeedPost, postsForTier } from "../../plugin/tier-feeds.ts";
import config from "../../tierwall.config.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

/**
 * The paid tiers' full-text feeds: which posts each one holds, in what order,
 * and that they stay out of the public bundle and the manifest's routes.
 */

const sentences = {
  free: "A free essay that every reader may read in full.",
  sparkTeaser: "The spark teaser sits above the marker for everyone.",
  spark: "The spark half of this post is for paying readers only.",
  core: "Core readers alone get this paragraph about runbooks.",
  lightning: "The lightning report ends with this closing sentence.",
  draft: "A draft that no feed should carry at all.",
};

let site: FixtureSite;
let manifest: Manifest;

beforeAll(async () => {
  site = await createFixtureSite({
    "posts/free-essay.md": post(
      { title: "Free essay", date: "2026-01-10" },
      sentences.free,
    ),
    "posts/spark-notes.md": post(
      { title: "Spark notes", tier: "spark", date: "2026-02-10" },
      `${sentences.sparkTeaser}\n\n<!-- paywall -->\n\n${sentences.spark}`,
    ),
    "posts/core-runbook/index.md": post(
      { title: "Core runbook", tier: "core", date: "2026-03-10" },
      `Above the marker.\n\n<!-- paywall -->\n\n${sentences.core}\n\n![Chart](chart.svg)`,
    ),
    "posts/core-runbook/chart.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    "posts/lightning-report.md": post(
      { title: "Lightning report", tier: "lightning", date: "2026-04-10" },
      `The quarter in brief.\n\n<!-- paywall -->\n\n${sentences.lightning}`,
    ),
    "posts/core-draft.md": post(
      { title: "Core draft", tier: "core", draft: "true" },
      sentences.draft,
    ),
  });
  await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });
  manifest = JSON.parse(await site.read("manifest.json"));
}, 60_000);

afterAll(async () => {
  await site.remove();
});

function entryTitles(feed: string): string[] {
  return [...feed.matchAll(/<entry>\s*<title>([^<]*)<\/title>/g)].map((m) => m[1] ?? "");
}

describe("tier feeds", () => {
  it("give each paid tier the free posts and the gated ones at or below it", async () => {
    expect(entryTitles(await site.read("gated/spark/feeds/full.xml"))).toEqual([
      "Spark notes",
      "Free essay",
    ]);
    expect(entryTitles(await site.read("gated/core/feeds/full.xml"))).toEqual([
      "Core runbook",
      "Spark notes",
      "Free essay",
    ]);
    expect(entryTitles(await site.read("gated/lightning/feeds/full.xml"))).toEqual([
      "Lightning report",
      "Core runbook",
      "Spark notes",
      "Free essay",
    ]);
  });

  it("carry each post in full, teaser and gated part alike", async () => {
    const core = await site.read("gated/core/feeds/full.xml");
    for (const sentence of [sentences.free, sentences.sparkTeaser, sentences.spark]) {
      expect(core).toContain(sentence);
    }
    expect(core).toContain(sentences.core);
    expect(core).not.toContain(sentences.lightning);
    expect(core).not.toContain("&lt;!-- paywall");
  });

  it("leave drafts out of every feed", async () => {
    const lightning = await site.read("gated/lightning/feeds/full.xml");
    expect(lightning).not.toContain(sentences.draft);
    expect(lightning).not.toContain("Core draft");
  });

  it("write every address absolute, from the configured site URL", async () => {
    const core = await site.read("gated/core/feeds/full.xml");
    const postUrl = new URL("/posts/core-runbook/", config.site.url).href;
    expect(core).toContain(`<link href="${postUrl}"/>`);
    expect(core).toContain(`<id>${postUrl}</id>`);
    expect(core).toContain(`src=&quot;${postUrl}chart.svg&quot;`);
    expect(core).toContain('<category term="core" label="Core Stacker"/>');
  });

  it("are listed under the manifest's feeds, never as routes", () => {
    expect(manifest.feeds).toEqual({
      spark: "feeds/full.xml",
      core: "feeds/full.xml",
      lightning: "feeds/full.xml",
    });
    expect(Object.keys(manifest.routes).some((key) => key.includes("feeds"))).toBe(false);
  });

  it("stay out of the public bundle, whose feed keeps teasers only", async () => {
    await expect(site.read("public/feeds/full.xml")).rejects.toThrow();
    const publicFeed = await site.read("public/feed.xml");
    expect(publicFeed).toContain(sentences.sparkTeaser);
    expect(publicFeed).not.toContain(sentences.spark);
    expect(publicFeed).not.toContain(sentences.core);
  });
});

describe("postsForTier", () => {
  const at = (day: number) => new Date(Date.UTC(2026, 0, day));
  const posts: FeedPost[] = [
    { url: "/posts/a/", title: "A", date: at(1), tier: "free", markdown: "" },
    { url: "/posts/b/", title: "B", date: at(3), tier: "core", markdown: "" },
    { url: "/posts/c/", title: "C", date: at(2), tier: "lightning", markdown: "" },
    { url: "/posts/d/", title: "D", date: at(3), tier: "spark", markdown: "" },
    { url: "/posts/e/", title: "E", date: at(4), tier: "retired", markdown: "" },
  ];
  const titles = (tier: string) =>
    postsForTier(config.tiers, posts, tier).map((p) => p.title);

  it("orders newest first, ties by address", () => {
    expect(titles("lightning")).toEqual(["B", "D", "C", "A"]);
  });

  it("stops at the tier's own rank", () => {
    expect(titles("spark")).toEqual(["D", "A"]);
    expect(titles("free")).toEqual(["A"]);
  });

  it("never includes a post of a tier the config does not know", () => {
    expect(titles("lightning")).not.toContain("E");
  });
});
