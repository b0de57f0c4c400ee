import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { buildSite } from "../../plugin/build.ts";
import { listFiles } from "../../plugin/leak-scan.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

/**
 * Every public output of one small publication, checked for the gated text of
 * three gated posts: one split by the marker, one with a front-matter teaser,
 * one with no public part at all. Each secret sits where a careless output
 * would pick it up (the first paragraph below the marker, the first paragraph
 * of the body), so each check below fails if the matching guard fails.
 */

const marked = {
  teaser: "Credentials rotate on a schedule, and this post explains how ours works.",
  secret: "The staging database password rotates every Tuesday at noon sharp.",
};
const teasered = {
  teaser: "Where the signing keys live, told in two short sentences for everyone.",
  secret: "The signing keys live in the basement safe behind the boiler room.",
};
const sealed = {
  secret: "The launch codes are kept in a sealed envelope on the third floor.",
};
const secrets = [marked.secret, teasered.secret, sealed.secret];
const freeText = "Open notes are free for everyone who passes by the archive.";

let site: FixtureSite;
let manifest: Manifest;

beforeAll(async () => {
  site = await createFixtureSite({
    ...fillerPosts(12),
    "posts/rotation.md": post(
      { title: "Rotation", tier: "core", date: "2026-01-10", tags: "[secrets, ops]" },
      `${marked.teaser}\n\n<!-- paywall -->\n\n${marked.secret} It ends the post.`,
    ),
    "posts/vault.md": post(
      {
        title: "Vault",
        tier: "spark",
        date: "2026-01-09",
        tags: "[secrets]",
        teaser: teasered.teaser,
        description: "A description a gated post does not get to use.",
      },
      `${teasered.secret}\n\nMore below.`,
    ),
    "posts/sealed.md": post(
      { title: "Sealed", tier: "lightning", date: "2026-01-08", tags: "[secrets]" },
      sealed.secret,
    ),
    "posts/open-notes.md": post(
      { title: "Open notes", date: "2026-01-07", tags: "[secrets]" },
      freeText,
    ),
  });
  const quietWarnings = silenceWarnings();
  await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });
  quietWarnings.restore();
  manifest = JSON.parse(await site.read("manifest.json"));
}, 60_000);

afterAll(async () => {
  await site.remove();
});

/** Twelve free posts, newer than the gated ones, so those land on page 2. */
function fillerPosts(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let day = 1; day <= count; day++) {
    const dd = String(day).padStart(2, "0");
    files[`posts/filler-${dd}.md`] = post(
      { title: `Filler ${dd}`, date: `2026-02-${dd}`, tags: "[filler]" },
      `Filler post number ${dd} says nothing of note at all.`,
    );
  }
  return files;
}

function silenceWarnings() {
  const original = console.warn;
  console.warn = () => undefined;
  return { restore: () => (console.warn = original) };
}

function expectNoSecrets(text: string, where: string): void {
  for (const secret of secrets) expect(text, `${where}: ${secret}`).not.toContain(secret);
}

function metaContent(html: string, attribute: string, name: string): string | undefined {
  const tag = new RegExp(`<meta ${attribute}="${name}" content="([^"]*)">`).exec(html);
  return tag?.[1];
}

function jsonLd(html: string): Record<string, unknown> {
  const script = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(script?.[1] ?? "null");
}

describe("post pages", () => {
  it("describe a gated post with its teaser in meta, Open Graph, Twitter and JSON-LD", async () => {
    const html = await site.read("public/posts/rotation/index.html");

    expectNoSecrets(html, "teaser page");
    expect(metaContent(html, "name", "description")).toBe(marked.teaser);
    expect(metaContent(html, "property", "og:description")).toBe(marked.teaser);
    expect(metaContent(html, "name", "twitter:description")).toBe(marked.teaser);
    expect(metaContent(html, "property", "og:type")).toBe("article");
    expect(jsonLd(html)).toMatchObject({
      "@type": "BlogPosting",
      headline: "Rotation",
      description: marked.teaser,
      isAccessibleForFree: false,
      hasPart: {
        "@type": "WebPageElement",
        isAccessibleForFree: false,
        cssSelector: ".paywall",
      },
    });
  });

  it("use a front-matter teaser as the description, not the body nor `description`", async () => {
    const html = await site.read("public/posts/vault/index.html");

    expectNoSecrets(html, "teaser page");
    expect(html).not.toContain("A description a gated post does not get to use.");
    expect(metaContent(html, "name", "description")).toBe(teasered.teaser);
    expect(jsonLd(html).description).toBe(teasered.teaser);
  });

  it("give a gated post without a teaser a description that says only who it is for", async () => {
    const html = await site.read("public/posts/sealed/index.html");

    expectNoSecrets(html, "teaser page");
    expect(metaContent(html, "name", "description")).toBe(
      "Sealed — a post for Lightning Stacker readers.",
    );
    expect(jsonLd(html).description).toBeUndefined();
  });

  it("show the teaser and the paywall on the teaser page, and nothing below the marker", async () => {
    const html = await site.read("public/posts/rotation/index.html");
    const body = /data-testid="post-body">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";

    expect(body).toContain(marked.teaser);
    expect(html).toContain('data-testid="paywall"');
    expect(html).not.toContain("tierwall-gated");
  });

  it("mark the gated section of the full page for paywalled-content markup", async () => {
    const html = await site.read("gated/core/posts/rotation/index.html");
    const section = /<div class="tierwall-gated">([\s\S]*?)<\/div>/.exec(html)?.[1];

    expect(section).toContain(marked.secret);
    expect(section).not.toContain(marked.teaser);
    expect(jsonLd(html)).toMatchObject({
      description: marked.teaser,
      isAccessibleForFree: false,
      hasPart: { cssSelector: ".tierwall-gated" },
    });
  });

  it("mark a free post as free, with no paywalled part", async () => {
    const html = await site.read("public/posts/open-notes/index.html");

    expect(metaContent(html, "name", "description")).toBe(freeText);
    expect(jsonLd(html)).toMatchObject({ isAccessibleForFree: true });
    expect(jsonLd(html).hasPart).toBeUndefined();
  });

  it("link each tag to its tag page", async () => {
    const html = await site.read("public/posts/rotation/index.html");
    expect(html).toContain('<a href="/tags/secrets/">secrets</a>');
  });
});

describe("lists of posts", () => {
  it("paginate the index ten posts at a time, gated posts showing only their teaser", async () => {
    const first = await site.read("public/posts/index.html");
    const second = await site.read("public/posts/page/2/index.html");

    expect(first.match(/data-testid="post-item"/g)).toHaveLength(10);
    expect(first).toContain('href="/posts/page/2/" rel="next"');
    expect(first).not.toContain("Rotation");
    expect(second.match(/data-testid="post-item"/g)).toHaveLength(6);
    expect(second).toContain('href="/posts/" rel="prev"');
    expect(second).toContain("<title>Posts, page 2 · The Stacker</title>");
    expect(second).toContain(marked.teaser);
    expect(second).toContain(teasered.teaser);
    expectNoSecrets(first + second, "posts index");
  });

  it("list a tag's posts on its tag page, gated ones by their teaser", async () => {
    const html = await site.read("public/tags/secrets/index.html");

    expect(html.match(/data-testid="post-item"/g)).toHaveLength(4);
    expect(html).toContain(marked.teaser);
    expect(html).toContain(teasered.teaser);
    expect(html).toContain(freeText);
    expectNoSecrets(html, "tag page");
  });

  it("paginate a tag with more than ten posts like the index", async () => {
    const first = await site.read("public/tags/filler/index.html");
    const second = await site.read("public/tags/filler/page/2/index.html");

    expect(first.match(/data-testid="post-item"/g)).toHaveLength(10);
    expect(second.match(/data-testid="post-item"/g)).toHaveLength(2);
  });

  it("list every tag on the topics page", async () => {
    const html = await site.read("public/tags/index.html");
    for (const tag of ["filler", "ops", "secrets"]) {
      expect(html).toContain(`<a href="/tags/${tag}/">${tag}</a>`);
    }
  });

  it("keep the 404 page to titles", async () => {
    const html = await site.read("public/404.html");

    expect(html).toContain("Page not found");
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain("Filler 12");
    expectNoSecrets(html, "404 page");
  });
});

describe("feeds, sitemap and search data", () => {
  it("give gated posts only their teaser in the Atom feed", async () => {
    const feed = await site.read("public/feed.xml");
    const entry = /<entry>\s*<title>Rotation<\/title>[\s\S]*?<\/entry>/.exec(feed)?.[0];

    expect(feed.match(/<entry>/g)).toHaveLength(16);
    expect(entry).toContain(`<summary>${marked.teaser}</summary>`);
    expect(entry).toContain("This post continues for Core Stacker readers.");
    expectNoSecrets(feed, "Atom feed");
  });

  it("give gated posts only their teaser in the JSON Feed", async () => {
    const feed = JSON.parse(await site.read("public/feed.json"));
    const rotation = feed.items.find(
      (item: { title: string }) => item.title === "Rotation",
    );

    expect(feed.version).toBe("https://jsonfeed.org/version/1.1");
    expect(feed.items).toHaveLength(16);
    expect(rotation.content_html).toContain(marked.teaser);
    expect(rotation.summary).toBe(marked.teaser);
    expect(rotation._tierwall).toEqual({
      tier: "core",
      tier_name: "Core Stacker",
      gated: true,
    });
    expectNoSecrets(await site.read("public/feed.json"), "JSON Feed");
  });

  it("list gated posts in the sitemap by URL only", async () => {
    const sitemap = await site.read("public/sitemap.xml");
    const rotation = /<url>\s*<loc>[^<]*\/posts\/rotation\/<\/loc>\s*<\/url>/;

    expect(sitemap).toMatch(rotation);
    expect(sitemap).toContain("/posts/page/2/</loc>");
    expect(sitemap).toContain("/tags/secrets/</loc>");
    expect(sitemap).not.toContain("/404.html");
    expect(sitemap).not.toContain("/login/");
    expect(sitemap).not.toContain(marked.teaser);
    expectNoSecrets(sitemap, "sitemap");
    expect(await site.read("public/robots.txt")).toContain("Sitemap: http");
  });

  it("give the search index a gated post's teaser as its summary", async () => {
    const text = await site.read("public/search.json");
    const entries = JSON.parse(text) as {
      title: string;
      summary: string;
      tier: string;
    }[];
    const byTitle = new Map(entries.map((entry) => [entry.title, entry]));

    expect(entries).toHaveLength(16);
    expect(byTitle.get("Rotation")).toMatchObject({
      url: "/posts/rotation/",
      tier: "core",
      summary: marked.teaser,
    });
    expect(byTitle.get("Vault")?.summary).toBe(teasered.teaser);
    expect(byTitle.get("Sealed")?.summary).toBe("");
    expect(byTitle.get("Open notes")?.summary).toBe(freeText);
    expectNoSecrets(text, "search index");
  });
});

describe("the public bundle as a whole", () => {
  it("holds no gated sentence in any file", async () => {
    const publicDir = path.join(site.distDir, "public");
    for (const file of await listFiles(publicDir)) {
      if (file.startsWith("assets/")) continue;
      expectNoSecrets(await readFile(path.join(publicDir, file), "utf8"), file);
    }
  });

  it("routes the three gated posts through the manifest", () => {
    expect(Object.keys(manifest.routes).sort()).toEqual([
      "/posts/rotation/",
      "/posts/sealed/",
      "/posts/vault/",
    ]);
  });
});
