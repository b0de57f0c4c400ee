import { resolve, sep } from "node:path";

/**
 * Turning a request's path into a file inside a bundle folder, and nothing
 * outside it. The request path is decoded exactly once here; anything that
 * still looks like a trick afterwards (`..`, `.`, empty segments, backslashes,
 * NUL) is refused before any file system call.
 */

export type RequestPath =
  | { ok: true; pathname: string; rawPathname: string; rawQuery: string }
  | { ok: false };

/** Parses the raw request target, e.g. "/posts/caf%C3%A9/?ref=rss". */
export function parseRequestPath(rawTarget: string): RequestPath {
  const queryAt = rawTarget.indexOf("?");
  const rawPathname = queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? "" : rawTarget.slice(queryAt + 1);
  if (!rawPathname.startsWith("/") || rawPathname.includes("\\")) return { ok: false };

  let pathname: string;
  try {
    pathname = decodeURIComponent(rawPathname);
  } catch {
    return { ok: false };
  }
  if (pathname.includes("\0") || pathname.includes("\\")) return { ok: false };

  const segments = pathname.slice(1).split("/");
  const inner = segments.slice(0, -1);
  if (inner.some((segment) => segment === "" || segment === "." || segment === "..")) {
    return { ok: false };
  }
  const last = segments[segments.length - 1];
  if (last === "." || last === "..") return { ok: false };

  return { ok: true, pathname, rawPathname, rawQuery };
}

/** The file a URL path names: "/x/" is "/x/index.html". */
export function filePathFor(pathname: string): string {
  return pathname.endsWith("/") ? `${pathname}index.html` : pathname;
}

/** `root` joined with `relative`, or null when the result would leave `root`. */
export function resolveInside(root: string, relative: string): string | null {
  const target = resolve(root, `.${relative.startsWith("/") ? "" : "/"}${relative}`);
  return target.startsWith(root + sep) ? target : null;
}
