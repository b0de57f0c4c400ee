import { cp, mkdir, rename, stat } from "node:fs/promises";
import path from "node:path";
import type { GatedRoute } from "../lib/manifest.ts";
import { TierwallBuildError } from "./errors.ts";
import { listFiles } from "./leak-scan.ts";
import type { GatedPost, PostLocation } from "./posts.ts";

/**
 * Splitting Eleventy's single output into the public bundle and one bundle per
 * paid tier. Eleventy writes every full edition under GATED_STAGING_FOLDER
 * inside its output; that folder moves out to `gated/` before anything else
 * looks at `public/`.
 */

export const GATED_STAGING_FOLDER = "_tierwall-gated";

/** Where a full edition asks Eleventy to write it (moved to `gated/` afterwards). */
export function fullEditionPermalink(tier: string, location: PostLocation): string {
  return `/${GATED_STAGING_FOLDER}/${tier}${location.url}index.html`;
}

export interface PostWithAttachments {
  inputPath: string;
  tier: string;
  gated: boolean;
  location: PostLocation;
}

export interface BundleLayout {
  stagingDir: string;
  publicDir: string;
  gatedDir: string;
  inputDir: string;
}

/** Moves full pages to `gated/`, places attachments, and returns the gated routes. */
export async function assembleBundles(
  layout: BundleLayout,
  posts: readonly PostWithAttachments[],
  gatedPosts: readonly GatedPost[],
): Promise<Record<string, GatedRoute>> {
  await moveFullEditions(layout);

  const routes: Record<string, GatedRoute> = {};
  for (const post of gatedPosts) {
    routes[post.location.url] = await pageRoute(layout, post);
  }
  for (const post of posts) {
    Object.assign(routes, await placeAttachments(layout, post));
  }
  return sortKeys(routes);
}

async function moveFullEditions(layout: BundleLayout): Promise<void> {
  const staged = path.join(layout.publicDir, GATED_STAGING_FOLDER);
  if (await exists(staged)) await rename(staged, layout.gatedDir);
  else await mkdir(layout.gatedDir, { recursive: true });
}

async function pageRoute(layout: BundleLayout, post: GatedPost): Promise<GatedRoute> {
  const file = `${post.location.url.slice(1)}index.html`;
  const fullPage = path.join(layout.gatedDir, post.tier, file);
  const teaserPage = path.join(layout.publicDir, file);

  if (!(await exists(fullPage)) || !(await exists(teaserPage))) {
    throw new TierwallBuildError(
      post.inputPath,
      `the build did not produce both the teaser (public/${file}) and the full page ` +
        `(gated/${post.tier}/${file})`,
      "remove any `permalink:` from the post's front matter; gated posts live at " +
        `${post.location.url}`,
    );
  }
  return { tier: post.tier, file, teaser: true };
}

/**
 * Copies the files beside `posts/<slug>/index.md`: into the tier's bundle (with
 * a route each) for a gated post, into the public bundle for a free one.
 */
async function placeAttachments(
  layout: BundleLayout,
  post: PostWithAttachments,
): Promise<Record<string, GatedRoute>> {
  const { folder } = post.location;
  if (!folder) return {};

  const sourceDir = path.join(layout.inputDir, folder);
  const bundleDir = post.gated ? path.join(layout.gatedDir, post.tier) : layout.publicDir;
  const routes: Record<string, GatedRoute> = {};

  for (const name of await listFiles(sourceDir)) {
    if (!isAttachment(name)) continue;
    const file = `${folder}/${name}`;
    const destination = path.join(bundleDir, file);
    await mkdir(path.dirname(destination), { recursive: true });
    await cp(path.join(sourceDir, name), destination);
    if (post.gated) routes[`/${file}`] = { tier: post.tier, file, teaser: false };
  }
  return routes;
}

/** The post's Markdown, Eleventy data files and dotfiles stay behind. */
function isAttachment(name: string): boolean {
  if (name === "index.md" || /\.11tydata\.[a-z]+$/.test(name)) return false;
  return !name.split("/").some((part) => part.startsWith("."));
}

/**
 * Gated files that also exist in the public bundle, e.g. because a passthrough
 * copy in the config picked up a gated post's folder.
 */
export async function findGatedFilesInPublic(
  publicDir: string,
  routes: Record<string, GatedRoute>,
): Promise<string[]> {
  const found: string[] = [];
  if (await exists(path.join(publicDir, GATED_STAGING_FOLDER))) {
    found.push(`${GATED_STAGING_FOLDER}/`);
  }
  for (const route of Object.values(routes)) {
    if (!route.teaser && (await exists(path.join(publicDir, route.file))))
      found.push(route.file);
  }
  return found;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => a.localeCompare(b)),
  );
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
