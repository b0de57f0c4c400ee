import { siteUrl } from "../billing/site-url.ts";
import type { Db } from "../db/database.ts";
import { useFeedKey } from "./feed-key.ts";
import { ensureFeedToken, resetFeedToken } from "./tokens.ts";

/**
 * A reader's private feed address, `<site>/feeds/<token>.xml`: what the account
 * page shows and what the reader pastes into their feed reader.
 */

export function privateFeedUrl(db: Db, readerId: string): string {
  return feedUrlFor(ensureFeedToken(db, readerId, useFeedKey()));
}

/** Gives the reader a new address; the old one answers 404 from now on. */
export function resetPrivateFeed(db: Db, readerId: string): string {
  return feedUrlFor(resetFeedToken(db, readerId, useFeedKey()));
}

/** The token in the last segment of a feed address, "<token>.xml". */
export function tokenFromFeedFileName(fileName: string): string | null {
  return fileName.endsWith(".xml") ? fileName.slice(0, -".xml".length) : null;
}

function feedUrlFor(token: string): string {
  return siteUrl(`/feeds/${token}.xml`);
}
