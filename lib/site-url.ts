/**
 * Whether `value` can be the site's address (SITE_URL): an absolute http or
 * https URL. The build links every page, feed and sitemap entry from it; the
 * server takes its cookies' `Secure` flag and the allowed `Origin` from it.
 *
 * Imports nothing, so that the server's entry can check SITE_URL before it
 * loads the app (server/entry.ts).
 */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
}
