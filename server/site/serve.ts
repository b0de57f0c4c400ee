import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  createError,
  getResponseHeader,
  type H3Event,
  send,
  sendRedirect,
  sendStream,
  setResponseHeader,
  setResponseHeaders,
  setResponseStatus,
} from "h3";
import type { GatedRoute } from "../../lib/manifest.ts";
import { lookupRoute } from "../../lib/manifest.ts";
import { canRead, tierName } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { escapeHtml } from "../http/html.ts";
import { wantsJson } from "../http/respond.ts";
import { logError } from "../log.ts";
import { type Bundle, loadBundle } from "./bundle.ts";
import { contentTypeFor } from "./content-type.ts";
import { servingTier, withTierSwitch } from "./dev-view-as.ts";
import { CACHEABLE_FILE_BYTES, type CachedFile } from "./file-cache.ts";
import { filePathFor, parseRequestPath, resolveInside } from "./paths.ts";

/**
 * Serves the site. A path the manifest lists is gated: the full page from
 * `gated/<tier>/` for a reader whose tier is high enough, else the teaser from
 * `public/`, else (an attachment has no teaser) a 403. Every answer for a gated
 * path is `private, no-store`, so no cache ever hands one reader's page to
 * another. Every other path comes from `public/`.
 *
 * A request is served from the one build `loadBundle()` resolved for it: the
 * access decision reads that build's manifest and the file is opened inside
 * that build's folder before a byte is sent. The open handle keeps the file
 * readable to the end even if newer builds arrive and this one is pruned
 * meanwhile; pruning waits long enough that a resolved build is still there
 * when its files are opened (see plugin/publish.ts). A small file is read whole
 * before a byte is sent and kept in that build's memory cache (file-cache.ts);
 * a larger one is streamed from its open handle.
 */

const GATED_CACHE = "private, no-store";
const HTML_CACHE = "no-cache";
const ASSET_CACHE = "public, max-age=3600";

export async function serveSite(event: H3Event): Promise<unknown> {
  if (event.method !== "GET" && event.method !== "HEAD") {
    setResponseHeader(event, "allow", "GET, HEAD");
    throw createError({ statusCode: 405, message: "Pages accept only GET and HEAD." });
  }

  const path = parseRequestPath(event.node.req.originalUrl ?? event.node.req.url ?? "/");
  if (!path.ok)
    throw createError({ statusCode: 400, message: "That path is not valid." });
  if (path.pathname.startsWith("/api/")) {
    throw createError({ statusCode: 404, message: "There is no such API endpoint." });
  }

  const loaded = await loadBundle();
  if (!loaded.ok) {
    setResponseHeaders(event, { "retry-after": 5, "cache-control": "no-store" });
    throw createError({ statusCode: 503, message: loaded.reason });
  }

  const route = lookupRoute(loaded.bundle.manifest, path.pathname);
  if (route) return serveGated(event, loaded.bundle, path, route);
  return servePublic(event, loaded.bundle, path);
}

type ParsedPath = Extract<ReturnType<typeof parseRequestPath>, { ok: true }>;

async function serveGated(
  event: H3Event,
  bundle: Bundle,
  path: ParsedPath,
  route: GatedRoute,
): Promise<unknown> {
  setResponseHeaders(event, { "cache-control": GATED_CACHE, vary: "Cookie" });

  // "/posts/x" is the page "/posts/x/": send the reader to its real address.
  const { routes } = bundle.manifest;
  if (
    !path.pathname.endsWith("/") &&
    !routes[path.pathname] &&
    routes[`${path.pathname}/`]
  ) {
    return redirectToDirectory(event, path);
  }

  if (canRead(tierwall.tiers, servingTier(event), route.tier)) {
    const file = await openFile(bundle, join("gated", route.tier), route.file);
    if (file.kind === "file") return sendGatedFile(event, file);
    logError("site", `build ${bundle.manifest.buildId} lists ${route.file} but lacks it`);
    return serveNotFound(event, bundle, GATED_CACHE);
  }

  if (route.teaser) {
    const teaser = await openFile(bundle, "public", filePathFor(path.pathname));
    if (teaser.kind === "file") return sendGatedFile(event, teaser);
  }
  return refuseGated(event, route);
}

async function servePublic(
  event: H3Event,
  bundle: Bundle,
  path: ParsedPath,
): Promise<unknown> {
  const file = await openFile(bundle, "public", filePathFor(path.pathname));
  if (file.kind === "directory" && !path.pathname.endsWith("/")) {
    return redirectToDirectory(event, path);
  }
  if (file.kind !== "file") return serveNotFound(event, bundle, HTML_CACHE);

  const html = file.contentType.startsWith("text/html");
  return sendFile(event, file, html ? HTML_CACHE : ASSET_CACHE);
}

async function serveNotFound(
  event: H3Event,
  bundle: Bundle,
  cacheControl: string,
): Promise<unknown> {
  setResponseStatus(event, 404);
  const page = await openFile(bundle, "public", "/404.html");
  if (page.kind === "file") return sendFile(event, page, cacheControl);

  setResponseHeader(event, "cache-control", cacheControl);
  return "<!doctype html><title>Not found</title><p>There is no page at this address.</p>";
}

function refuseGated(event: H3Event, route: GatedRoute): unknown {
  const tier = tierName(tierwall.tiers, route.tier);
  const message = `This file is for ${tier} subscribers.`;
  setResponseStatus(event, 403);
  if (wantsJson(event)) return { statusCode: 403, message };

  setResponseHeader(event, "content-type", "text/html; charset=utf-8");
  return `<!doctype html><title>Subscribers only</title>
<p>${escapeHtml(message)} <a href="/login/">Sign in</a> or
<a href="/signup/">create an account</a> to subscribe.</p>`;
}

function redirectToDirectory(event: H3Event, path: ParsedPath): Promise<void> {
  const query = path.rawQuery === "" ? "" : `?${path.rawQuery}`;
  return sendRedirect(event, `${path.rawPathname}/${query}`, 301);
}

/** A file to send: read whole (small files), or open for streaming. */
type FoundFile = Omit<CachedFile, "body"> &
  ({ body: Buffer } | { handle: FileHandle; size: number });

type OpenedFile =
  | ({ kind: "file" } & FoundFile)
  | { kind: "directory" }
  | { kind: "missing" };

/**
 * Finds a file in a folder of the build (`public`, `gated/<tier>`): from the
 * build's memory cache, else from disk. A small file is read whole into the
 * cache; a large one comes back open, and the open handle keeps it readable
 * across a build swap.
 */
async function openFile(
  bundle: Bundle,
  folder: string,
  relative: string,
): Promise<OpenedFile> {
  const target = resolveInside(join(bundle.root, folder), relative);
  if (!target) return { kind: "missing" };
  const cached = bundle.files.get(target);
  if (cached) return { kind: "file", ...cached };

  const opened = await openOnDisk(target);
  if (opened.kind !== "file" || !("handle" in opened)) return opened;
  if (opened.size > CACHEABLE_FILE_BYTES) return opened;

  const { contentType, lastModified } = opened;
  const file = {
    body: await readWhole(opened.handle, opened.size),
    contentType,
    lastModified,
  };
  bundle.files.set(target, file);
  return { kind: "file", ...file };
}

async function openOnDisk(target: string): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(target, "r");
  } catch {
    return { kind: "missing" };
  }
  const info = await handle.stat().catch(() => null);
  if (info?.isFile()) {
    const lastModified = info.mtime.toUTCString();
    return {
      kind: "file",
      handle,
      size: info.size,
      lastModified,
      contentType: contentTypeFor(target),
    };
  }
  await handle.close();
  return { kind: info?.isDirectory() ? "directory" : "missing" };
}

/** Reads the whole file from its handle, then closes it. */
async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  try {
    // Not from the shared pool: a cached small file would pin a whole pool slab.
    const body = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(body, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === size ? body : body.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** A gated page or attachment; in development, pages carry the view-as switch. */
function sendGatedFile(event: H3Event, file: FoundFile): Promise<unknown> {
  const isPage = file.contentType.startsWith("text/html");
  if (isPage && event.context.devView) return sendWithTierSwitch(event, file);
  return sendFile(event, file, GATED_CACHE);
}

async function sendWithTierSwitch(event: H3Event, file: FoundFile): Promise<unknown> {
  const page = "body" in file ? file.body : await readWhole(file.handle, file.size);
  const html = withTierSwitch(page.toString("utf8"), event);
  setResponseHeaders(event, {
    "content-type": file.contentType,
    "content-length": Buffer.byteLength(html),
    "x-content-type-options": "nosniff",
    "cache-control": GATED_CACHE,
  });
  return send(event, event.method === "HEAD" ? "" : html);
}

async function sendFile(
  event: H3Event,
  file: FoundFile,
  cacheControl: string,
): Promise<unknown> {
  setResponseHeaders(event, {
    "content-type": file.contentType,
    "content-length": "body" in file ? file.body.length : file.size,
    "last-modified": file.lastModified,
    "x-content-type-options": "nosniff",
    "cache-control": cookieSafe(event, cacheControl),
  });

  if ("body" in file) return send(event, event.method === "HEAD" ? "" : file.body);
  if (event.method === "HEAD") {
    await file.handle.close();
    return send(event, "");
  }
  // A reader who leaves mid-download must not hold the file (and a pruned build's
  // disk space) open: h3 stops writing but leaves the stream to us.
  const stream = file.handle.createReadStream();
  event.node.res.once("close", () => stream.destroy());
  return sendStream(event, stream);
}

/** A response that (re)sets the session cookie must never sit in a shared cache. */
function cookieSafe(event: H3Event, cacheControl: string): string {
  return getResponseHeader(event, "set-cookie") ? GATED_CACHE : cacheControl;
}
