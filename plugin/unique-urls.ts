import { GATED_STAGING_FOLDER } from "./bundles.ts";
import type { ContentMapEvent } from "./eleventy-types.ts";
import { displayPath, TierwallBuildError } from "./errors.ts";

/** Stops the build when two pages claim one URL, naming both files. */
export function assertUniqueUrls(map: ContentMapEvent): void {
  const claims = new Map<string, string[]>();
  for (const [inputPath, urls] of Object.entries(map.inputPathToUrl)) {
    for (const url of urls) {
      if (url.startsWith(`/${GATED_STAGING_FOLDER}/`)) continue;
      claims.set(url, [...(claims.get(url) ?? []), inputPath]);
    }
  }

  for (const [url, files] of claims) {
    if (files.length < 2) continue;
    const [first = "", ...others] = files.map(displayPath);
    throw new TierwallBuildError(
      first,
      `this page and ${others.join(", ")} would both be published at ${url}`,
      "rename one of the files (a post's URL comes from its file or folder name) " +
        "or give one of them a different `permalink:`",
    );
  }
}
