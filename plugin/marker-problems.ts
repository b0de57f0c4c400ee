import { TierwallBuildError } from "./errors.ts";
import type { Lookalike, MarkerScan } from "./paywall-marker.ts";
import { fileLineOfBody } from "./source-file.ts";
import type { PostParts } from "./teaser.ts";

/**
 * What the build tells a writer about a post's paywall marker: mistakes that
 * stop the build, and the warnings for a gated post with nothing public or
 * with two teasers. Lines are the file's, counted from 1, as an editor shows
 * them.
 */

export interface PostSource {
  file: string;
  /** The body Eleventy read, front matter removed. */
  body: string;
}

export interface Warning {
  problem: string;
  fix: string;
}

const TEASER_FIX = "add `teaser: One or two sentences for everyone` to the front matter";

/** `tierLine` is how the post got its free tier: "tier: free", or no `tier:` at all. */
export function markerInFreePost(
  post: PostSource,
  scan: MarkerScan,
  tierLine: string | undefined,
): TierwallBuildError {
  const lines = [scan.markerLine, scan.crowdedMarkerLine].filter(
    (line) => line !== undefined,
  );
  const line = fileLineOfBody(post.file, post.body, Math.min(...lines));
  const why = tierLine ? `(${tierLine})` : "(it has no `tier:`)";
  return new TierwallBuildError(
    post.file,
    `this post is free ${why} but has a <!-- paywall --> marker on line ${line}, so ` +
      "everything below the marker would be public",
    "remove the marker or set a paid tier, e.g. `tier: spark`",
  );
}

export function misplacedMarker(post: PostSource, bodyLine: number): TierwallBuildError {
  const line = fileLineOfBody(post.file, post.body, bodyLine);
  return new TierwallBuildError(
    post.file,
    `the <!-- paywall --> marker on line ${line} shares its line with other text`,
    "put <!-- paywall --> on a line of its own, with a blank line above and below",
  );
}

/**
 * The warning about a gated post's teaser, if it has one to give: nothing
 * public, or both a `teaser:` and a marker, where the `teaser:` wins.
 */
export function teaserWarning(
  post: PostSource,
  parts: PostParts,
  scan: MarkerScan,
): Warning | undefined {
  if (parts.teaserSource === "front matter" && scan.markerLine !== undefined) {
    return teaserAndMarkerWarning(post, scan.markerLine);
  }
  if (parts.teaser) return undefined;
  if (parts.teaserSource === "none") return noMarkerWarning(post, scan.lookalikes);
  return {
    problem:
      "this gated post has nothing public: no text above <!-- paywall --> and no " +
      "`teaser:`, so its teaser page, the listings and the feeds show only its title",
    fix: `write an opening paragraph above <!-- paywall -->, or ${TEASER_FIX}`,
  };
}

function teaserAndMarkerWarning(post: PostSource, bodyLine: number): Warning {
  const line = fileLineOfBody(post.file, post.body, bodyLine);
  return {
    problem:
      `this gated post has both \`teaser:\` and a <!-- paywall --> marker on line ${line}; ` +
      "the `teaser:` wins, so the text above the marker is gated with the rest of the post",
    fix:
      "remove one of them: the marker, to keep the whole body for subscribers, or " +
      "`teaser:`, to make the text above the marker public",
  };
}

function noMarkerWarning(post: PostSource, lookalikes: readonly Lookalike[]): Warning {
  const gated =
    "no <!-- paywall --> marker found, so the whole post is gated: its teaser page, " +
    "the listings and the feeds show only its title";
  if (lookalikes.length === 0) {
    return {
      problem: gated,
      fix:
        "put <!-- paywall --> on a line of its own, with a blank line above and below, " +
        `under the opening that everyone may read; or ${TEASER_FIX}`,
    };
  }
  const named = lookalikes.map(
    ({ line, text }) => `line ${fileLineOfBody(post.file, post.body, line)}: ${text}`,
  );
  return {
    problem: `${gated}. Not the marker, though it looks like one: ${named.join("; ")}`,
    fix:
      "write the marker exactly as <!-- paywall --> (no other words inside; spaces and " +
      `case do not matter), on a line of its own; or ${TEASER_FIX}`,
  };
}
