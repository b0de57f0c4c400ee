import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A throwaway publication in a temp folder: `content/` with the given files and
 * a `dist` path next to it, for building with `buildSite`.
 */
export interface FixtureSite {
  root: string;
  contentDir: string;
  distDir: string;
  read(relativeToDist: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createFixtureSite(
  files: Record<string, string>,
): Promise<FixtureSite> {
  const root = await mkdtemp(path.join(tmpdir(), "tierwall-site-"));
  const contentDir = path.join(root, "content");

  for (const [name, text] of Object.entries(files)) {
    const file = path.join(contentDir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  await mkdir(path.join(contentDir, "posts"), { recursive: true });

  const distDir = path.join(root, "dist");
  return {
    root,
    contentDir,
    distDir,
    read: (relative) => readFile(path.join(distDir, relative), "utf8"),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** A Markdown post with front matter, written the way a writer would. */
export function post(frontMatter: Record<string, string>, body: string): string {
  const lines = Object.entries(frontMatter).map(([key, value]) => `${key}: ${value}`);
  return `---\n${lines.join("\n")}\n---\n${body}\n`;
}
