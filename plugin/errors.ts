import path from "node:path";

/**
 * A mistake in the publication that stops the build. The message names the file
 * and says how to fix it, because the person reading it is usually a writer who
 * committed Markdown, not the engineer who wrote the plugin:
 *
 *   content/posts/x.md: unknown tier "gold" in the front matter (…)
 *     Fix: set `tier:` to one of free, spark, core, lightning, …
 */
export class TierwallBuildError extends Error {
  override name = "TierwallBuildError";

  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(formatProblem(file, problem, fix));
  }
}

/**
 * Whether an error is a mistake in the publication, reported for its writer.
 * By name, not by class: a test runner or a config loaded twice can give the
 * plugin's modules more than one copy, each with its own class.
 */
export function isWriterError(error: unknown): error is TierwallBuildError {
  return error instanceof Error && error.name === "TierwallBuildError";
}

/**
 * Something a writer should know that does not stop the build, worded like an
 * error so that both read the same way in a terminal.
 */
export function formatWarning(file: string, problem: string, fix: string): string {
  return `[build] warning: ${formatProblem(file, problem, fix)}`;
}

function formatProblem(file: string, problem: string, fix: string): string {
  return `${displayPath(file)}: ${problem}\n  Fix: ${fix}`;
}

/** A path for messages: "content/posts/x.md" inside the project, absolute outside it. */
export function displayPath(filePath: string): string {
  const absolute = path.resolve(filePath);
  const relative = path.relative(process.cwd(), absolute);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return absolute;
  return relative;
}
