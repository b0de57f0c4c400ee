import { describe, expect, it } from "vitest";
import type { MarkdownLibrary } from "../../plugin/eleventy-types.ts";
import { gatedSentences } from "../../plugin/leak-scan.ts";
import type { GatedPost } from "../../plugin/posts.ts";
import { splitAtPaywall } from "../../plugin/teaser.ts";
import { decodeEntities, htmlToText, splitSentences } from "../../plugin/text.ts";

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
