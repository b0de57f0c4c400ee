import { isHttpUrl } from "../lib/site-url.ts";

/**
 * The site's address as a build sees it. tierwall.config.ts reads SITE_URL when
 * the build starts, and every absolute link the build writes (the sitemap, the
 * feeds, each tier's full-text feed, canonical and og:url tags) begins with
 * it. Without SITE_URL those links point at the local address `npm start`
 * serves, which is right for development and wrong for a build that goes live.
 */

/** The address a build links to when SITE_URL is not set. */
export function localSiteUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://localhost:${env.PORT ?? "3000"}`;
}

export type SiteUrlCheck = { ok: true; warning?: string } | { ok: false; error: string };

/**
 * Whether SITE_URL can be built with: an http(s) URL, or unset (a warning,
 * since the build then links to localhost). The messages are one line each.
 */
export function checkSiteUrl(value: string | undefined): SiteUrlCheck {
  if (value === undefined) {
    const local = localSiteUrl();
    return {
      ok: true,
      warning:
        `SITE_URL is not set: links in the sitemap, feeds and page metadata point ` +
        `to ${local}. Set SITE_URL to the site's address for a build you publish.`,
    };
  }
  if (isHttpUrl(value)) return { ok: true };
  return {
    ok: false,
    error:
      `SITE_URL ${JSON.stringify(value)} is not an http(s) URL. ` +
      "Fix: set SITE_URL to the site's address, such as https://stacker.example",
  };
}
