/**
 * Nunjucks filters the theme's templates use. Dates print in UTC so that a post
 * dated 2026-03-01 reads "March 1, 2026" whatever the build machine's zone.
 */

const readable = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "long",
  day: "numeric",
  timeZone: "UTC",
});

export function readableDate(date: Date | string): string {
  return readable.format(new Date(date));
}

export function isoDate(date: Date | string): string {
  return new Date(date).toISOString();
}

export function absoluteUrl(pathOrUrl: string, base: string): string {
  return new URL(pathOrUrl, base).href;
}

/** The newest date in a collection, for a feed's `<updated>`. */
export function newestDate(items: readonly { date: Date }[]): Date {
  const times = items.map((item) => item.date.getTime());
  return new Date(times.length > 0 ? Math.max(...times) : Date.now());
}

/** JSON safe to place inside a `<script type="application/json">` element. */
export function jsonScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** The configured tier with this id, for its name and description. */
export function findTier<T extends { id: string }>(
  tiers: readonly T[],
  id: string,
): T | undefined {
  return tiers.find((tier) => tier.id === id);
}
