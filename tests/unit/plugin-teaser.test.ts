import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSite } from "../../plugin/build.ts";
import { eleventyDefaultMarkdown } from "../../plugin/eleventy-markdown.ts";
import type { MarkdownLibrary } from "../../plugin/eleventy-types.ts";
import { gatedSentences } from "../../plugin/leak-scan.ts";
import { misplacedMarkerLine, scanPaywallMarkers } from "../../plugin/paywall-marker.ts";
import type { GatedPost } from "../../plugin/posts.ts";
import { splitAtPaywall } from "../../plugin/teaser.ts";
import { decodeEntities, htmlToText, splitSentences } from "../../plugin/text.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

const body = [
  "The public opening says what the post is about.",
  "",
  "<!-- paywall -->",
  "",
  "The gated part explains the actual procedure in detail.",
].join("\n");

function parts(markdown: string, teaser?: string) {
  const result = splitAtPaywall(markdown, teaser);
  if (!result.ok) throw new Error(result.problem);
  return result.parts;
}

describe("teaser extraction", () => {
  it("splits at the paywall marker", () => {
    const { teaser, gated, teaserSource } = parts(body);
    expect(teaser).toBe("The public opening says what the post is about.");
    expect(gated).toBe("The gated part explains the actual procedure in detail.");
    expect(teaserSource).toBe("marker");
  });

  it("renders the full page without the marker", () => {
    const { full } = parts(body);
    expect(full).not.toContain("paywall");
    expect(full).toContain("The public opening");
    expect(full).toContain("The gated part");
  });

  it("accepts the marker with extra spaces and any case", () => {
    const { gated } = parts("Open.\n\n  <!--PAYWALL   -->\n\nClosed.");
    expect(gated).toBe("Closed.");
  });

  it("splits at the first marker only", () => {
    const { teaser, gated } = parts(
      "A\n\n<!-- paywall -->\n\nB\n\n<!-- paywall -->\n\nC",
    );
    expect(teaser).toBe("A");
    expect(gated).toContain("B");
    expect(gated).toContain("C");
  });

  it("uses a front-matter teaser and gates the whole body", () => {
    const { teaser, gated, teaserSource } = parts(body, "Written for the index.");
    expect(teaser).toBe("Written for the index.");
    expect(gated).toContain("The public opening");
    expect(gated).toContain("The gated part");
    expect(teaserSource).toBe("front matter");
  });

  it("gates the whole body when there is neither marker nor teaser", () => {
    const { teaser, gated, teaserSource } = parts("Everything is for subscribers.");
    expect(teaser).toBe("");
    expect(gated).toBe("Everything is for subscribers.");
    expect(teaserSource).toBe("none");
  });

  it("refuses a marker that shares its line with text", () => {
    const result = splitAtPaywall("Open text <!-- paywall --> closed text.");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.fix).toContain("line of its own");
  });

  it("accepts the marker without spaces, and indented (Eleventy has no indented code)", () => {
    expect(parts("Open.\n\n<!--paywall-->\n\nClosed.").gated).toBe("Closed.");
    expect(parts("Open.\n\n    <!-- paywall -->\n\nClosed.").gated).toBe("Closed.");
    expect(parts("Open.\r\n\r\n<!-- paywall -->\r\n\r\nClosed.").gated).toBe("Closed.");
  });
});

const lines = (...text: string[]) => text.join("\n");
const scan = (markdown: string) =>
  scanPaywallMarkers(markdown, eleventyDefaultMarkdown());

describe("a marker shown in code is not the split", () => {
  const codeSample = lines(
    "Here is how a post is marked:",
    "",
    "```markdown",
    "Everyone reads this.",
    "",
    "<!-- paywall -->",
    "",
    "Subscribers read this.",
    "```",
    "",
    "This paragraph is meant for everyone.",
    "",
    "<!-- paywall -->",
    "",
    "The actual subscriber part starts here.",
  );

  it("splits at the marker below a fenced sample, keeping the sample whole", () => {
    const { teaser, gated, full } = parts(codeSample);

    expect(teaser).toContain("```markdown\nEveryone reads this.\n\n<!-- paywall -->\n\n");
    expect(teaser).toContain("Subscribers read this.\n```");
    expect(teaser).toMatch(/This paragraph is meant for everyone\.$/);
    expect(gated).toBe("The actual subscriber part starts here.");
    expect(full).toContain("```markdown\nEveryone reads this.\n\n<!-- paywall -->");
    expect(full).not.toMatch(/everyone\.\s*<!-- paywall -->/);
  });

  it("ignores markers in tilde fences, fences inside lists and inline code", () => {
    const body = lines(
      "Write `<!-- paywall -->` on a line of its own.",
      "",
      "~~~",
      "<!-- paywall -->",
      "~~~",
      "",
      "1. Open the post.",
      "   ```",
      "   <!-- paywall -->",
      "   ```",
      "",
      "Still public.",
      "",
      "<!-- paywall -->",
      "",
      "Gated.",
    );
    expect(scan(body)).toEqual({ markerLine: 13, lookalikes: [] });
    expect(parts(body).gated).toBe("Gated.");
  });

  it("gates the whole body when the only marker is in code", () => {
    const result = parts(lines("```", "<!-- paywall -->", "```", "", "All gated."));
    expect(result.teaserSource).toBe("none");
    expect(result.teaser).toBe("");
  });

  it("does not refuse inline code that shows the marker in a free post's sentence", () => {
    const result = scan("Put `<!-- paywall -->` under your opening paragraph.");
    expect(result).toEqual({ lookalikes: [] });
  });

  it("still refuses a marker in text before the real one, outside code", () => {
    const body = lines(
      "Open <!-- paywall --> text.",
      "",
      "<!-- paywall -->",
      "",
      "Gated.",
    );
    expect(misplacedMarkerLine(scan(body))).toBe(0);
    expect(splitAtPaywall(body).ok).toBe(false);
  });

  it("leaves a marker that shares its line below the split to the gated part", () => {
    const body = lines(
      "Open.",
      "",
      "<!-- paywall -->",
      "",
      "Gated <!-- paywall --> too.",
    );
    expect(misplacedMarkerLine(scan(body))).toBeUndefined();
    expect(parts(body).gated).toBe("Gated <!-- paywall --> too.");
  });

  it("finds a marker alone on a line inside a paragraph after a multi-line code span", () => {
    const body = lines(
      "Intro with `a code",
      "span` in it",
      "    <!-- paywall -->",
      "Gated.",
    );
    expect(scan(body).markerLine).toBe(2);
    expect(parts(body).teaser).toBe("Intro with `a code\nspan` in it");
  });
});

describe("the pages of a post that shows the marker in code", { timeout: 60_000 }, () => {
  const opening = "This paragraph under the samples is meant for everyone.";
  const secret = "The subscriber part names the three settings that matter.";
  let site: FixtureSite;
  let teaserPage: string;
  let fullPage: string;

  beforeAll(async () => {
    const body = lines(
      "Mark a post like this:",
      "",
      "```markdown",
      "Everyone reads this.",
      "",
      "<!-- paywall -->",
      "",
      "Subscribers read this.",
      "```",
      "",
      "Or, in a sentence: `<!-- paywall -->` on a line of its own.",
      "",
      opening,
      "",
      "<!-- paywall -->",
      "",
      secret,
    );
    site = await createFixtureSite({
      "posts/how-to-mark.md": post({ title: "How to mark", tier: "core" }, body),
    });
    await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });
    teaserPage = await site.read("public/posts/how-to-mark/index.html");
    fullPage = await site.read("gated/core/posts/how-to-mark/index.html");
  }, 60_000);

  afterAll(async () => {
    await site?.remove();
  });

  const sample =
    '<pre><code class="language-markdown">Everyone reads this.\n\n&lt;!-- paywall --&gt;' +
    "\n\nSubscribers read this.\n</code></pre>";

  it("shows the whole sample and the text above the real marker on the teaser", () => {
    expect(teaserPage).toContain(sample);
    expect(teaserPage).toContain(
      "<code>&lt;!-- paywall --&gt;</code> on a line of its own",
    );
    expect(teaserPage).toContain(opening);
    expect(teaserPage).not.toContain(secret);
  });

  it("shows the sample unchanged on the full page, the gated part after the opening", () => {
    expect(fullPage).toContain(sample);
    expect(fullPage).not.toContain("&lt;div class=&quot;tierwall-gated&quot;&gt;");
    const gatedAt = fullPage.indexOf('<div class="tierwall-gated">');
    expect(gatedAt).toBeGreaterThan(fullPage.indexOf(opening));
    expect(fullPage.indexOf(secret)).toBeGreaterThan(gatedAt);
  });
});

describe("mistyped markers", () => {
  it("names comments that mention the paywall but are not the marker", () => {
    const body = lines(
      "Open.",
      "",
      "<!-- pay wall -->",
      "",
      "Text with <!-- paywall: --> inside.",
      "",
      "<!--",
      "  paywall goes here",
      "-->",
      "",
      "```",
      "<!-- pay wall -->",
      "```",
    );
    expect(scan(body)).toEqual({
      lookalikes: [
        { line: 2, text: "<!-- pay wall -->" },
        { line: 4, text: "Text with <!-- paywall: --> inside." },
        { line: 7, text: "paywall goes here" },
      ],
    });
  });

  it("does not take other comments or the word in prose for a marker", () => {
    expect(scan("A paywall is a business model.\n\n<!-- note -->")).toEqual({
      lookalikes: [],
    });
  });
});

describe("gated sentences for the leak scan", () => {
  // A stand-in for Eleventy's markdown-it: paragraphs only, enough for prose.
  const markdown: MarkdownLibrary = {
    render: (source) =>
      source
        .split(/\n{2,}/)
        .filter((block) => block.trim())
        .map(
          (block) => `<p>${block.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")}</p>`,
        )
        .join("\n"),
  };

  function gatedPost(teaser: string, gated: string): GatedPost {
    return {
      inputPath: "content/posts/x.md",
      title: "X",
      tier: "core",
      location: { slug: "x", url: "/posts/x/", folder: null },
      parts: { teaser, gated, full: `${teaser}\n\n${gated}`, teaserSource: "marker" },
    };
  }

  it("takes distinctive sentences in a normalised form", () => {
    const sentences = gatedSentences(
      gatedPost(
        "",
        "The **replica** lagged by ten minutes. It broke. We fixed the alert today.",
      ),
      markdown,
    );
    expect(sentences).toEqual([
      "the replica lagged by ten minutes.",
      "we fixed the alert today.",
    ]);
  });

  it("skips sentences the writer also put in the teaser", () => {
    const sentences = gatedSentences(
      gatedPost(
        "Backups are only real once restored.",
        "Backups are only real once restored. Restore drills run every week here.",
      ),
      markdown,
    );
    expect(sentences).toEqual(["restore drills run every week here."]);
  });
});

describe("plain-text extraction", () => {
  it("decodes named and numeric entities", () => {
    expect(decodeEntities("it&#39;s &amp; &#x2014; &mdash; &hellip;")).toBe(
      "it's & — — …",
    );
  });

  it("keeps block boundaries when stripping HTML", () => {
    expect(
      splitSentences(htmlToText("<h2>Title here</h2><p>One <em>two</em>.</p>")),
    ).toEqual(["Title here", "One two."]);
  });
});
