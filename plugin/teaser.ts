/**
 * Splitting a post into the part anyone may read (the teaser) and the part only
 * its tier may read. Writers mark the split with `<!-- paywall -->` on a line of
 * its own, or give the teaser in front matter (`teaser:`), in which case the
 * whole body is gated.
 */

export type TeaserSource = "marker" | "front matter" | "none";

export interface PostParts {
  /** Markdown shown to everyone on the teaser page, the index and the feed. */
  teaser: string;
  /** Markdown only the post's tier may read. */
  gated: string;
  /** The whole body without the marker: what the full page renders. */
  full: string;
  teaserSource: TeaserSource;
}

export type SplitResult =
  | { ok: true; parts: PostParts }
  | { ok: false; problem: string; fix: string };

const MARKER = /<!--\s*paywall\s*-->/i;
const MARKER_LINE = /^[ \t]*<!--\s*paywall\s*-->[ \t]*$/im;

export function splitAtPaywall(body: string, frontMatterTeaser?: string): SplitResult {
  const markerLine = MARKER_LINE.exec(body);
  if (!markerLine && MARKER.test(body)) {
    return {
      ok: false,
      problem: "the <!-- paywall --> marker shares its line with other text",
      fix: "put <!-- paywall --> on a line of its own, with a blank line above and below",
    };
  }

  const above = markerLine ? body.slice(0, markerLine.index) : body;
  const below = markerLine ? body.slice(markerLine.index + markerLine[0].length) : "";
  const full = markerLine ? `${above.trimEnd()}\n\n${below.trimStart()}` : body;

  if (frontMatterTeaser?.trim()) {
    const teaser = frontMatterTeaser.trim();
    return {
      ok: true,
      parts: { teaser, gated: full, full, teaserSource: "front matter" },
    };
  }
  if (markerLine) {
    const parts = { teaser: above.trim(), gated: below.trim(), full };
    return { ok: true, parts: { ...parts, teaserSource: "marker" } };
  }
  return { ok: true, parts: { teaser: "", gated: body, full, teaserSource: "none" } };
}

/** Whether the body has a paywall marker anywhere, on its own line or not. */
export function hasPaywallMarker(body: string): boolean {
  return MARKER.test(body);
}

/**
 * The class of the element that wraps the gated part on a full page. Styles and
 * the paywalled-content structured data (`hasPart.cssSelector`) point at it.
 */
export const GATED_SECTION_CLASS = "tierwall-gated";

/** The full page's Markdown: the teaser as it is, the gated part in its own element. */
export function markGatedSection(parts: PostParts): string {
  const gated = `<div class="${GATED_SECTION_CLASS}">\n\n${parts.gated}\n\n</div>\n`;
  if (parts.teaserSource !== "marker" || !parts.teaser) return gated;
  return `${parts.teaser}\n\n${gated}`;
}
