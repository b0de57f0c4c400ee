/**
 * The build manifest, written by the Eleventy plugin to `dist/manifest.json` and
 * read by the server. Only gated paths appear in `routes`; every other path is
 * served from `dist/public/`. The paid tiers' full-text feeds are listed under
 * `feeds`, apart from `routes`, because no URL path leads to them: the server
 * hands one out only for a reader's private feed address.
 */

export interface GatedRoute {
  /** The tier a reader needs to read this path. */
  tier: string;
  /** File path relative to `dist/gated/<tier>/`. */
  file: string;
  /** Whether `dist/public/` holds a teaser for this path (pages yes, attachments no). */
  teaser: boolean;
}

export interface Manifest {
  buildId: string;
  builtAt: string;
  /** Tier ids, lowest first, as configured when the site was built. */
  tiers: string[];
  /** Keys are URL paths: "/posts/slug/" for pages, "/posts/slug/chart.png" for files. */
  routes: Record<string, GatedRoute>;
  /**
   * Tier id → the tier's full-text feed, relative to `dist/gated/<tier>/`.
   * Absent in builds made before private feeds existed.
   */
  feeds?: Record<string, string>;
}

/**
 * Normalises a request path to the manifest's keys: decoded, without a query,
 * "/x/index.html" and "/x" both become "/x/" when that is the page's key.
 */
export function lookupRoute(
  manifest: Manifest,
  requestPath: string,
): GatedRoute | undefined {
  for (const key of candidateKeys(requestPath)) {
    const route = manifest.routes[key];
    if (route) return route;
  }
  return undefined;
}

export function candidateKeys(requestPath: string): string[] {
  const path = requestPath.split("?")[0] ?? "/";
  if (path.endsWith("/index.html")) return [path.slice(0, -"index.html".length)];
  if (path.endsWith("/")) return [path];
  return [path, `${path}/`];
}
