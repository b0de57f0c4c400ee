import path from "node:path";

/**
 * A mistake in the publication that stops the build. The message names the file
 * and says how to fix it, because the person reading it is usually a writer who
 * committed Markdown, not the engineer who wrote the plugin.
 */
export class TierwallBuildError extends Error {
  override name = "TierwallBuildError";

  constructor(
    readonly file: string,
    problem: string,
    fix: string,
  ) {
    super(`${displayPath(file)}: ${problem}\n  Fix: ${fix}`);
  }
}

/** A path for messages: "content/posts/x.md" inside the project, absolute outside it. */
export function displayPath(filePath: string): string {
  const relative = path.relative(process.cwd(), filePath);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return filePath;
  return relative;
}
