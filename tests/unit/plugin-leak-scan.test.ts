import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { MarkdownLibrary } from "../../plugin/eleventy-types.ts";
import { type Leak, scanForLeaks } from "../../plugin/leak-scan.ts";
import type { GatedPost } from "../../plugin/posts.ts";
import { SentenceIndex } from "../../plugin/sentence-index.ts";
import {
  decodeEntities,
  htmlToText,
  jsonToText,
  normalizeForSearch,
} from "../../plugin/text.ts";

// A stand-in for Eleventy's markdown-it: paragraphs only, enough for prose.
const markdown: MarkdownLibrary = {
  render: (source) =>
    source
      .split(/\n{2,}/)
      .filter((block) => block.trim())
      .map((block) => `<p>${block}</p>`)
      .join("\n"),
};

function gatedPost(slug: string, teaser: string, gated: string): GatedPost {
  return {
    inputPath: `content/posts/${slug}.md`,
    title: slug,
    tier: "core",
    location: { slug, url: `/posts/${slug}/`, folder: null },
    parts: { teaser, gated, full: `${teaser}\n\n${gated}`, teaserSource: "marker" },
  };
}

const secret = "The staging database password rotates every Tuesday at noon.";
const other = "Our standby replica in Frankfurt lags by about four minutes.";
const posts = [
  gatedPost("rotation", "Credentials rotate on a schedule.", secret),
  gatedPost("replicas", "Replicas need care.", `${other}\n\nIt broke.`),
];

/**
 * The search the index replaced: every sentence of every post tried on every
 * view of every file with `includes`. Kept here as the reference the new scan
 * must agree with.
 */
function referenceScan(files: Record<string, string>, sentences: string[][]) {
  const leaks: { post: number; file: string; sentence: string }[] = [];
  for (const file of Object.keys(files).sort()) {
    const source = files[file] as string;
    const text = file.endsWith(".json") ? jsonToText(source) : source;
    const visible = htmlToText(text);
    const views = [text, decodeEntities(text), visible, htmlToText(visible)].map(
      normalizeForSearch,
    );
    for (const [post, list] of sentences.entries()) {
      const sentence = list.find((s) => views.some((view) => view.includes(s)));
      if (sentence) leaks.push({ post, file, sentence });
    }
  }
  return leaks;
}

let root: string | undefined;

afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function publicBundle(files: Record<string, string>): Promise<string> {
  root = await mkdtemp(path.join(tmpdir(), "tierwall-scan-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

function summarise(leaks: readonly Leak[]) {
  return leaks.map((leak) => ({
    post: posts.indexOf(leak.post),
    file: leak.file,
    sentence: leak.sentence,
  }));
}

// The same secret, hidden the ways templates and feeds hide text.
const leakyFiles: Record<string, string> = {
  "split/index.html":
    "<p>The staging <em>database</em>\n    password rotates every&nbsp;Tuesday " +
    "at <a href='/x'>noon</a>.</p>",
  "meta/index.html": `<meta name="description" content="${secret.replace("Tuesday", "&#84;uesday")}">`,
  "feed.xml":
    '<entry><content type="html">&lt;p&gt;The staging &lt;strong&gt;database' +
    "&lt;/strong&gt; password rotates every Tuesday at noon.&lt;/p&gt;</content></entry>",
  "search.json": JSON.stringify({
    items: [
      {
        html: `<p>THE STAGING DATABASE PASSWORD <b>rotates</b> every Tuesday at noon.</p>`,
      },
    ],
  }),
  "both.html": `<p>${other}</p><script>const s = ${JSON.stringify(secret)};</script>`,
  "clean/index.html":
    "<p>Credentials rotate on a schedule.</p><p>The staging database password " +
    "rotates every Tuesday at</p><p>Replicas need care. It broke.</p>",
  "assets/site.css": "body { color: black; }",
  "image.png": secret,
};

describe("the leak scan", () => {
  it("finds a sentence split by tags, whitespace and entities, as the old scan did", async () => {
    const dir = await publicBundle(leakyFiles);
    const leaks = summarise(await scanForLeaks(dir, posts, markdown, { threads: 1 }));

    const sentences = [[normalizeForSearch(secret)], [normalizeForSearch(other)]];
    const textFiles = Object.fromEntries(
      Object.entries(leakyFiles).filter(([name]) => !name.endsWith(".png")),
    );
    expect(leaks).toEqual(referenceScan(textFiles, sentences));
    expect(leaks.map((leak) => leak.file)).toEqual([
      "both.html",
      "both.html",
      "feed.xml",
      "meta/index.html",
      "search.json",
      "split/index.html",
    ]);
  });

  it("finds a quoted sentence in a page's JSON, where its quotes are escaped", async () => {
    const quoted = 'The vault code is "4711" and the auditors must never see it.';
    const post = gatedPost("vault", "The vault has a code.", quoted);
    const ld = JSON.stringify({ articleBody: quoted }).replace(/</g, "\\u003c");
    const dir = await publicBundle({
      "share/index.html": `<script type="application/ld+json">${ld}</script>`,
    });

    const leaks = await scanForLeaks(dir, [post], markdown, { threads: 1 });
    expect(leaks.map((leak) => leak.file)).toEqual(["share/index.html"]);
  });

  it("finds nothing in clean text, near misses included", async () => {
    const dir = await publicBundle({
      "clean/index.html": leakyFiles["clean/index.html"] as string,
      "teasers.xml":
        "<entry>Credentials rotate on a schedule. Replicas need care.</entry>",
    });
    expect(await scanForLeaks(dir, posts, markdown, { threads: 1 })).toEqual([]);
  });

  it("reports the same leaks when it searches in worker threads", async () => {
    const dir = await publicBundle(leakyFiles);
    const inProcess = await scanForLeaks(dir, posts, markdown, { threads: 1 });
    const threaded = await scanForLeaks(dir, posts, markdown, { threads: 2 });
    expect(summarise(threaded)).toEqual(summarise(inProcess));
  }, 30_000);
});

describe("the sentence index", () => {
  /** A small seeded generator, so a failure can be replayed. */
  function random(seed: number) {
    let state = seed;
    return () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
  }

  it("finds exactly the sentences that includes() finds", () => {
    const next = random(7);
    const letters = "ab c.’";
    const phrase = (length: number) =>
      Array.from({ length }, () => letters[Math.floor(next() * letters.length)]).join("");

    for (let round = 0; round < 200; round++) {
      // Lengths around every threshold: searched one by one, by two blocks, by three.
      const sentences = [
        ...new Set(Array.from({ length: 30 }, () => phrase(5 + Math.floor(next() * 60)))),
      ];
      const index = new SentenceIndex(sentences);
      for (let text = 0; text < 10; text++) {
        const length = next() * 500;
        let haystack = "";
        while (haystack.length < length) {
          const planted = sentences[Math.floor(next() * sentences.length)] as string;
          haystack += next() < 0.1 ? planted : phrase(1 + Math.floor(next() * 9));
        }
        const expected = sentences.flatMap((s, id) => (haystack.includes(s) ? [id] : []));
        expect([...index.findIn(haystack)].sort((a, b) => a - b)).toEqual(expected);
      }
    }
  });

  it("finds nothing in an empty text or with no sentences", () => {
    expect(new SentenceIndex(["a sentence that is long enough here"]).findIn("")).toEqual(
      new Set(),
    );
    expect(new SentenceIndex([]).findIn("any text at all, of any length")).toEqual(
      new Set(),
    );
  });
});
