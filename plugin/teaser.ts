import { eleventyDefaultMarkdown } from "./eleventy-markdown.ts";
import type { MarkdownParser } from "./eleventy-types.ts";
import {
  type MarkerScan,
  misplacedMarkerLine,
  scanPaywallMarkers,
} from "./paywall-marker.ts";
import { lineBounds } from "./source-file.ts";

/**
 * Splitting a post into the part anyone may read (the teaser) and the part only
 * its tier may read. Writers mark the split with `<!-- paywall -->` on a line of
 * its own, or give the teaser in front matter (`teaser:`), in which case the
 * whole body is gated. Where the marker is, and whether a marker is only shown
 * in a code sample, is decided by plugin/paywall-marker.ts.
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

/**
 * Finds the marker with `parser` (Eleventy's default Markdown unless given)
 * and splits there; refuses a marker that shares its line with other text.
 */
export function splitAtPaywall(
  body: string,
  frontMatterTeaser?: string,
  parser: MarkdownParser = eleventyDefaultMarkdown(),
): SplitResult {
  const scan = scanPaywallMarkers(body, parser);
  if (misplacedMarkerLine(scan) === undefined) {
    return { ok: true, parts: splitAtMarker(body, scan, frontMatterTeaser) };
  }
  return {
    ok: false,
    problem: "the <!-- paywall --> marker shares its line with other text",
    fix: "put <!-- paywall --> on a line of its own, with a blank line above and below",
  };
}

/**
 * Splits at the scan's marker line. The caller has refused a misplaced marker
 * (see misplacedMarkerLine) before: a body without a marker alone on its line
 * is gated whole.
 */
export function splitAtMarker(
  body: string,
  scan: MarkerScan,
  frontMatterTeaser?: string,
): PostParts {
  const marker =
    scan.markerLine === undefined ? undefined : lineBounds(body, scan.markerLine);
  const above = marker ? body.slice(0, marker.start) : body;
  const below = marker ? body.slice(marker.end) : "";
  const full = marker ? `${above.trimEnd()}\n\n${below.trimStart()}` : body;

  const teaser = frontMatterTeaser?.trim();
  if (teaser) return { teaser, gated: full, full, teaserSource: "front matter" };
  if (marker) {
    return { teaser: above.trim(), gated: below.trim(), full, teaserSource: "marker" };
  }
  return { teaser: "", gated: body, full, teaserSource: "none" };
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
