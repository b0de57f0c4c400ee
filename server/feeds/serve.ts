import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type H3Event,
  setResponseHeader,
  setResponseHeaders,
  setResponseStatus,
} from "h3";
import type { Tier } from "../../lib/config.ts";
import type { Manifest } from "../../lib/manifest.ts";
import { isPaidTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { readEntitlement } from "../billing/entitlements.ts";
import { useDb } from "../db/database.ts";
import { logError, logWarn } from "../log.ts";
import { loadBundle } from "../site/bundle.ts";
import { resolveInside } from "../site/paths.ts";
import { tokenFromFeedFileName } from "./address.ts";
import { findFeedReader } from "./tokens.ts";

/**
 * Answers `GET /feeds/<token>.xml`. Feed readers send no cookies, so the token
 * alone says whose feed it is; the reader's tier is worked out afresh on every
 * request, so the feed follows their plan: the full-text feed of their tier
 * while they pay, the public teaser feed once they no longer do. A token that
 * is malformed, unknown or reset gets the same bare 404.
 *
 * Nothing here throws to Nitro: its error log would print the request's URL,
 * and with it the token.
 */

/** A file of the build, relative to its root: "gated/core/feeds/full.xml". */
export interface FeedFile {
  folder: string;
  file: string;
}

const PUBLIC_FEED: FeedFile = { folder: "public", file: "feed.xml" };

export async function serveReaderFeed(event: H3Event, fileName: string): Promise<string> {
  setResponseHeaders(event, {
    "cache-control": "private, no-store",
    "x-robots-tag": "noindex",
    "x-content-type-options": "nosniff",
  });
  if (event.method !== "GET" && event.method !== "HEAD") {
    setResponseHeader(event, "allow", "GET, HEAD");
    return answerText(event, 405, "Feeds accept only GET and HEAD.");
  }

  try {
    return await answerFeed(event, fileName);
  } catch (error) {
    logError("feeds", "a private feed could not be served", error);
    return answerText(event, 500, "The feed is not available just now.");
  }
}

async function answerFeed(event: H3Event, fileName: string): Promise<string> {
  const token = tokenFromFeedFileName(fileName);
  const readerId = token === null ? null : findFeedReader(useDb(), token);
  if (readerId === null) return answerText(event, 404, "Not found.");

  const loaded = await loadBundle();
  if (!loaded.ok) {
    setResponseHeader(event, "retry-after", 5);
    return answerText(event, 503, loaded.reason);
  }

  const { tier } = readEntitlement(useDb(), readerId);
  const feed = chooseReaderFeed(loaded.bundle.manifest, tierwall.tiers, tier);
  const path = resolveInside(join(loaded.bundle.root, feed.folder), feed.file);
  if (!path) throw new Error(`the build lists a feed outside its folder: ${feed.file}`);

  const body = await readFile(path, "utf8");
  setResponseHeader(event, "content-type", "application/atom+xml; charset=utf-8");
  return event.method === "HEAD" ? "" : body;
}

/**
 * The feed for a reader of `tier`: their tier's full-text feed, or the public
 * teaser feed for the free tier. A build without that tier's feed (one made
 * before private feeds existed) also gets the teaser feed, never a higher one.
 */
export function chooseReaderFeed(
  manifest: Manifest,
  tiers: readonly Tier[],
  tier: string,
): FeedFile {
  if (!isPaidTier(tiers, tier)) return PUBLIC_FEED;

  const file = manifest.feeds?.[tier];
  if (file) return { folder: join("gated", tier), file };

  logWarn("feeds", `build ${manifest.buildId} has no ${tier} feed; serving teasers`);
  return PUBLIC_FEED;
}

function answerText(event: H3Event, status: number, message: string): string {
  setResponseStatus(event, status);
  setResponseHeader(event, "content-type", "text/plain; charset=utf-8");
  return `${message}\n`;
}
