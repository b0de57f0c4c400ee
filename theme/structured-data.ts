import type { PostGate } from "../plugin/posts.ts";
import { GATED_SECTION_CLASS } from "../plugin/teaser.ts";
import { absoluteUrl, jsonScript } from "./filters.ts";
import type { SiteInfo } from "./listings.ts";

/**
 * schema.org JSON-LD for a post page. A gated post is marked as paywalled
 * content the way search engines document it: `isAccessibleForFree: false` and
 * a `hasPart` element whose `cssSelector` names the closed part of the page.
 * On the teaser that is the paywall box; on the full page, the element the
 * plugin wraps the gated part in. Either way the markup describes the page, it
 * never carries the post's text: the description is the teaser's summary.
 */

/** The paywall box under a teaser (theme/partials/paywall.njk). */
export const PAYWALL_SELECTOR = ".paywall";
/** The gated part of a full page, as the plugin wraps it. */
export const GATED_SECTION_SELECTOR = `.${GATED_SECTION_CLASS}`;

export interface PostFacts {
  title: string;
  date: Date;
  tags?: unknown;
}

export function postStructuredData(
  gate: PostGate,
  facts: PostFacts,
  site: SiteInfo,
): string {
  const url = absoluteUrl(gate.url, site.url);
  const data: Record<string, unknown> = {
    "@context": "https://schema.org",
    "@type": "BlogPosting",
    headline: facts.title,
    description: gate.summary || undefined,
    url,
    mainEntityOfPage: { "@type": "WebPage", "@id": url },
    datePublished: new Date(facts.date).toISOString(),
    inLanguage: site.language,
    keywords: tagList(facts.tags),
    author: site.author ? { "@type": "Person", name: site.author } : undefined,
    publisher: { "@type": "Organization", name: site.name, url: site.url },
    isAccessibleForFree: !gate.gated,
  };
  if (gate.gated) {
    data.hasPart = {
      "@type": "WebPageElement",
      isAccessibleForFree: false,
      cssSelector: gate.teaser ? PAYWALL_SELECTOR : GATED_SECTION_SELECTOR,
    };
  }
  return jsonScript(data);
}

function tagList(tags: unknown): string[] | undefined {
  const list = typeof tags === "string" ? [tags] : tags;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.filter((tag): tag is string => typeof tag === "string");
}
