import mime from "mime";

const textLike =
  /^(text\/|application\/(javascript|json|xml|rss\+xml|atom\+xml|manifest\+json|ld\+json|feed\+json)|image\/svg\+xml)/;

/** The Content-Type for a file, with the charset spelled out for text. */
export function contentTypeFor(filePath: string): string {
  const type = feedType(filePath) ?? mime.getType(filePath) ?? "application/octet-stream";
  return textLike.test(type) ? `${type}; charset=utf-8` : type;
}

/** Feeds are named for what they are; a generic `.xml` or `.json` type would hide it. */
function feedType(filePath: string): string | undefined {
  if (filePath.endsWith("/feed.xml")) return "application/atom+xml";
  if (filePath.endsWith("/feed.json")) return "application/feed+json";
  return undefined;
}
