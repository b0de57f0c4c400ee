import mime from "mime";

const textLike =
  /^(text\/|application\/(javascript|json|xml|rss\+xml|atom\+xml|manifest\+json|ld\+json)|image\/svg\+xml)/;

/** The Content-Type for a file, with the charset spelled out for text. */
export function contentTypeFor(filePath: string): string {
  const type = mime.getType(filePath) ?? "application/octet-stream";
  return textLike.test(type) ? `${type}; charset=utf-8` : type;
}
