import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { GatedRoute, Manifest } from "../../lib/manifest.ts";

/** Reads the manifest of a built site. */
export function readManifest(distDir: string): Manifest {
  return JSON.parse(readFileSync(join(distDir, "manifest.json"), "utf8")) as Manifest;
}

/** The first gated page of a tier, with its full page and teaser as built. */
export function gatedPage(
  distDir: string,
  tier: string,
): { path: string; route: GatedRoute; full: string; teaser: string } {
  const manifest = readManifest(distDir);
  const entry = Object.entries(manifest.routes).find(
    ([, route]) => route.tier === tier && route.teaser,
  );
  if (!entry) throw new Error(`The example site has no gated ${tier} page`);

  const [path, route] = entry;
  return {
    path,
    route,
    full: readFileSync(join(distDir, "gated", tier, route.file), "utf8"),
    teaser: readFileSync(join(distDir, "public", route.file), "utf8"),
  };
}
