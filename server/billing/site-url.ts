import tierwall from "../../tierwall.config.ts";

/**
 * An absolute URL on this site, for the addresses Stripe sends readers back to.
 * `site.url` comes from `SITE_URL`, so it is the address readers actually use.
 */
export function siteUrl(path: string): string {
  return `${tierwall.site.url.replace(/\/+$/, "")}${path}`;
}
