import {
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { buildSite } from "../../plugin/build.ts";
import { createFixtureSite, type FixtureSite, post } from "../unit/plugin-fixture.ts";

/**
 * Builds the example publication and checks, independently of the plugin's own
 * leak scan, that no sentence from any gated part reaches the public bundle.
 * The text handling here is deliberately simple and separate from plugin/text.ts
 * so that a bug there cannot hide a leak here.
 */

const contentDir = path.resolve("content");
let workDir: string;
let distDir: string;
let manifest: Manifest;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "tierwall-build-"));
  distDir = path.join(workDir, "dist");
  await buildSite({ distDir, quiet: true });
  manifest = JSON.parse(await readFile(path.join(distDir, "manifest.json"), "utf8"));
}, 120_000);

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

interface ExamplePost {
  file: string;
  url: string;
  tier: string;
  gatedSentences: string[];
}

describe("the example publication's bundles", () => {
  it("publishes through a symlink to a finished build", async () => {
    expect((await lstat(distDir)).isSymbolicLink()).toBe(true);
    expect(await readlink(distDir)).toBe(`.dist-builds/${manifest.buildId}`);
  });

  it("has gated posts of every paid tier", async () => {
    const tiers = (await examplePosts()).map((p) => p.tier);
    expect(new Set(tiers)).toEqual(new Set(["spark", "core", "lightning"]));
  });

  it("never puts a sentence of a gated part in a public file", async () => {
    const publicTexts = await readTexts(path.join(distDir, "public"));
    let checked = 0;

    for (const example of await examplePosts()) {
      for (const sentence of example.gatedSentences) {
        checked++;
        const leak = publicTexts.find(({ text }) => text.includes(sentence));
        expect(leak?.file, `${example.file}: "${sentence}"`).toBeUndefined();
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it("puts those sentences in the tier's full page (so the check above can see them)", async () => {
    for (const example of await examplePosts()) {
      const page = await readFile(
        gatedFile(example.tier, `${example.url}index.html`),
        "utf8",
      );
      const text = visibleText(page);
      const found = example.gatedSentences.filter((sentence) => text.includes(sentence));
      expect(found.length / example.gatedSentences.length, example.file).toBeGreaterThan(
        0.9,
      );
    }
  });

  it("has a teaser in public/ and a full page in gated/<tier>/ for each gated page", async () => {
    const pages = Object.entries(manifest.routes).filter(([, route]) => route.teaser);
    expect(pages.length).toBe((await examplePosts()).length);

    for (const [url, route] of pages) {
      const teaser = await readFile(path.join(distDir, "public", route.file), "utf8");
      const full = await readFile(gatedFile(route.tier, route.file), "utf8");
      expect(teaser, url).toContain('data-testid="paywall"');
      expect(full, url).toContain('data-testid="post-body"');
      expect(full, url).not.toContain('data-testid="paywall"');
    }
  });

  it("keeps a gated post's attachment in its tier's bundle only", async () => {
    const url = "/posts/teardown-retry-storm/request-rate.svg";
    expect(manifest.routes[url]).toEqual({
      tier: "core",
      file: "posts/teardown-retry-storm/request-rate.svg",
      teaser: false,
    });

    const everywhere = await listAll(distDir);
    const copies = everywhere.filter((file) => file.endsWith("request-rate.svg"));
    expect(copies).toEqual(["gated/core/posts/teardown-retry-storm/request-rate.svg"]);

    const fullPage = await readFile(
      gatedFile("core", "posts/teardown-retry-storm/index.html"),
      "utf8",
    );
    expect(fullPage).toContain('src="request-rate.svg"');
  });

  it("leaves free posts entirely public", async () => {
    const page = await readFile(
      path.join(distDir, "public/posts/boring-is-a-feature/index.html"),
      "utf8",
    );
    expect(page).toContain("Could a competent engineer who has never seen our system");
    expect(manifest.routes["/posts/boring-is-a-feature/"]).toBeUndefined();
  });
});

describe("the leak guard", { timeout: 120_000 }, () => {
  let site: FixtureSite | undefined;

  afterAll(async () => {
    await site?.remove();
  });

  const secret = "The staging database password rotates every Tuesday at noon.";
  const gatedPost = post(
    { title: "Rotation", tier: "core", date: "2026-05-01" },
    `Credentials rotate on a schedule.\n\n<!-- paywall -->\n\n${secret}`,
  );

  it("fails the build when a template copies gated text into public/", async () => {
    // A home-made search index: reads the raw Markdown, as such scripts often do.
    const searchIndex = `
      import { readdirSync, readFileSync } from "node:fs";
      import path from "node:path";
      export default class SearchIndex {
        data() {
          return { permalink: "/search-data.json" };
        }
        render(data) {
          const dir = path.join(path.dirname(data.page.inputPath), "posts");
          const read = (name) => readFileSync(path.join(dir, name), "utf8");
          return JSON.stringify(readdirSync(dir).map(read));
        }
      }`;
    site = await createFixtureSite({
      "posts/rotation.md": gatedPost,
      "search.11ty.js": searchIndex,
    });

    const build = buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });

    await expect(build).rejects.toThrow(
      /posts\/rotation\.md \(core\) leaks into public\/search-data\.json/,
    );
    await expect(lstat(site.distDir)).rejects.toThrow();
    expect(await readdir(path.join(site.root, ".dist-builds"))).toEqual([]);
  });

  it("fails when a template copies gated text into JSON-LD, keeping the old build live", async () => {
    await site?.remove();
    site = await createFixtureSite({ "posts/rotation.md": gatedPost });
    const first = await buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });

    // A "share card" page whose structured data quotes the post's raw Markdown.
    // JSON escapes the quotation marks, so the sentence is not there verbatim.
    const quoted = 'The vault code is "4711" and the auditors must never see it.';
    const leakyPost = gatedPost.replace(secret, `${secret}\n\n${quoted}`);
    const shareCard = `
      import { readFileSync } from "node:fs";
      import path from "node:path";
      export default class ShareCard {
        data() {
          return { permalink: "/share/rotation/index.html" };
        }
        render(data) {
          const file = path.join(path.dirname(data.page.inputPath), "posts/rotation.md");
          const body = readFileSync(file, "utf8").split("<!-- paywall -->")[1];
          const ld = JSON.stringify({ "@type": "Article", articleBody: body.trim() });
          return "<html><head><script type=\\"application/ld+json\\">" + ld +
            "</script></head><body>Share</body></html>";
        }
      }`;
    await writeFile(path.join(site.contentDir, "posts/rotation.md"), leakyPost);
    await writeFile(path.join(site.contentDir, "share.11ty.js"), shareCard);
    const build = buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });

    await expect(build).rejects.toThrow(
      /posts\/rotation\.md \(core\) leaks into public\/share\/rotation\/index\.html/,
    );
    expect(await readlink(site.distDir)).toBe(`.dist-builds/${first.buildId}`);
  });

  it("splits below a marker shown in code, and keeps what follows it gated", async () => {
    await site?.remove();
    const between = "This paragraph sits between the sample and the real marker.";
    const guide = post(
      { title: "Marking", tier: "core", date: "2026-05-03" },
      [
        "A sample of a marked post, with `<!-- paywall -->` in it:",
        "",
        "```markdown",
        "Everyone reads this part of the sample.",
        "",
        "<!-- paywall -->",
        "",
        "Subscribers read this part of the sample.",
        "```",
        "",
        between,
        "",
        "<!-- paywall -->",
        "",
        secret,
      ].join("\n"),
    );
    site = await createFixtureSite({ "posts/marking.md": guide });
    await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });

    const publicDir = path.join(site.distDir, "public");
    const publicTexts = await readTexts(publicDir);
    const leak = publicTexts.find(({ text }) => text.includes(secret));
    expect(leak?.file).toBeUndefined();
    const teaser = visibleText(
      await readFile(path.join(publicDir, "posts/marking/index.html"), "utf8"),
    );
    expect(teaser).toContain(between);
    expect(teaser).toContain("Subscribers read this part of the sample.");
    const full = await readFile(
      path.join(site.distDir, "gated/core/posts/marking/index.html"),
      "utf8",
    );
    expect(visibleText(full)).toContain(secret);
  });

  it("finds a quoted gated sentence that only reached public/ JSON-escaped", async () => {
    await site?.remove();
    const quoted = 'The vault code is "4711" and the auditors must never see it.';
    const onlyQuoted = post(
      { title: "Vault", tier: "core", date: "2026-05-02" },
      `The vault has a code.\n\n<!-- paywall -->\n\n${quoted}`,
    );
    const shareCard = `
      export default class ShareCard {
        data() {
          return { permalink: "/share/vault/index.html" };
        }
        render() {
          const ld = JSON.stringify({ articleBody: ${JSON.stringify(quoted)} });
          return '<script type="application/ld+json">' + ld + "</script>";
        }
      }`;
    site = await createFixtureSite({
      "posts/vault.md": onlyQuoted,
      "share.11ty.js": shareCard,
    });

    const build = buildSite({
      contentDir: site.contentDir,
      distDir: site.distDir,
      quiet: true,
    });
    await expect(build).rejects.toThrow(
      /posts\/vault\.md \(core\) leaks into public\/share\/vault\/index\.html/,
    );
  });
});

/** Every gated post of the example, read straight from its Markdown. */
async function examplePosts(): Promise<ExamplePost[]> {
  const posts: ExamplePost[] = [];
  for (const file of await listAll(path.join(contentDir, "posts"))) {
    if (!file.endsWith(".md")) continue;
    const source = await readFile(path.join(contentDir, "posts", file), "utf8");
    const [, frontMatter = "", body = ""] =
      /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(source) ?? [];
    const tier = /^tier:\s*(\S+)/m.exec(frontMatter)?.[1] ?? "free";
    if (tier === "free") continue;

    const hasTeaser = /^teaser:/m.test(frontMatter);
    const gatedPart = hasTeaser ? body : (belowMarker(body) ?? body);
    const slug = file.replace(/\/index\.md$/, "").replace(/\.md$/, "");
    posts.push({
      file,
      url: `/posts/${slug}/`,
      tier,
      gatedSentences: sentencesOf(gatedPart),
    });
  }
  return posts;
}

/**
 * What follows the first `<!-- paywall -->` line outside a fenced code block:
 * a marker in a ``` or ~~~ sample is text the post shows, not its split.
 */
function belowMarker(body: string): string | undefined {
  const lines = body.split("\n");
  let fence: string | undefined;
  for (const [index, line] of lines.entries()) {
    const run = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (run?.startsWith(fence) && line.trim() === run) fence = undefined;
    } else if (run) {
      fence = run;
    } else if (line.trim() === "<!-- paywall -->") {
      return lines.slice(index + 1).join("\n");
    }
  }
  return undefined;
}

/** Sentences of at least six words, with Markdown punctuation removed. */
function sentencesOf(markdown: string): string[] {
  const plain = markdown
    .replace(/^```.*$/gm, "")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^#+\s*/gm, "")
    .replace(/^\s*[-*]\s+/gm, "")
    .replace(/[*`]/g, "");
  return plain
    .split(/\n\s*\n|(?<=[.!?])\s+/)
    .map((sentence) => sentence.replace(/\s+/g, " ").trim())
    .filter((sentence) => sentence.split(" ").length >= 6);
}

function visibleText(html: string): string {
  const decode = (text: string) =>
    text
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
  const stripped = decode(html.replace(/<[^>]+>/g, ""));
  // Feeds carry escaped HTML: strip the tags that decoding revealed, too.
  return `${stripped}\n${decode(stripped.replace(/<[^>]+>/g, ""))}`.replace(/\s+/g, " ");
}

async function readTexts(root: string): Promise<{ file: string; text: string }[]> {
  const files = (await listAll(root)).filter((file) =>
    /\.(html|xml|json|txt|js|svg)$/.test(file),
  );
  return Promise.all(
    files.map(async (file) => ({
      file,
      text: visibleText(await readFile(path.join(root, file), "utf8")),
    })),
  );
}

async function listAll(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

function gatedFile(tier: string, file: string): string {
  return path.join(distDir, "gated", tier, file.replace(/^\//, ""));
}
