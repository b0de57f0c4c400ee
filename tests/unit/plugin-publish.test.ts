import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type BuildTarget,
  beginBuild,
  createBuildId,
} from "../../plugin/build-target.ts";
import {
  BUILDS_TO_KEEP,
  publishBuild,
  RETIRED_BUILD_GRACE_MS,
} from "../../plugin/publish.ts";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tierwall-publish-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A staged build as the plugin leaves it just before publishing. */
async function stagedBuild(label: string, at: Date): Promise<BuildTarget> {
  const buildId = createBuildId(at);
  const buildsDir = path.join(root, ".dist-builds");
  const target: BuildTarget = {
    buildId,
    distDir: path.join(root, "dist"),
    contentDir: "content",
    buildsDir,
    stagingDir: path.join(buildsDir, `.staging-${buildId}`),
    quiet: true,
    published: false,
  };
  await mkdir(path.join(target.stagingDir, "public"), { recursive: true });
  await writeFile(path.join(target.stagingDir, "public", "index.html"), label);
  return target;
}

describe("publishing a build", () => {
  it("points the dist symlink at the new build", async () => {
    const target = await stagedBuild("first", new Date("2026-01-01T00:00:00Z"));
    await publishBuild(target);

    expect(await readlink(target.distDir)).toBe(`.dist-builds/${target.buildId}`);
    expect(await readFile(path.join(target.distDir, "public/index.html"), "utf8")).toBe(
      "first",
    );
    expect(target.published).toBe(true);
  });

  it("replaces an old real dist directory with the symlink", async () => {
    await mkdir(path.join(root, "dist", "public"), { recursive: true });
    await writeFile(path.join(root, "dist", "public", "index.html"), "legacy");

    const target = await stagedBuild("new", new Date("2026-01-01T00:00:00Z"));
    await publishBuild(target);

    expect((await lstat(target.distDir)).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(target.distDir, "public/index.html"), "utf8")).toBe(
      "new",
    );
    expect(
      (await readdir(target.buildsDir)).filter((name) => name.startsWith(".")),
    ).toEqual([]);
  });

  it(`keeps the newest ${BUILDS_TO_KEEP} builds once the grace period is over`, async () => {
    const ids: string[] = [];
    for (let day = 1; day <= 5; day++) {
      const target = await stagedBuild(
        `day ${day}`,
        new Date(`2026-01-0${day}T00:00:00Z`),
      );
      await publishBuild(target, { keep: BUILDS_TO_KEEP, graceMs: 0 });
      ids.push(target.buildId);
    }

    const kept = await readdir(path.join(root, ".dist-builds"));
    expect(kept.sort()).toEqual(ids.slice(-BUILDS_TO_KEEP));
    expect(await readFile(path.join(root, "dist/public/index.html"), "utf8")).toBe(
      "day 5",
    );
  });

  it("keeps a build replaced moments ago, however many builds followed it", async () => {
    const ids: string[] = [];
    for (let day = 1; day <= 5; day++) {
      const target = await stagedBuild(
        `day ${day}`,
        new Date(`2026-01-0${day}T00:00:00Z`),
      );
      await publishBuild(target);
      ids.push(target.buildId);
    }
    expect((await readdir(path.join(root, ".dist-builds"))).sort()).toEqual(ids);

    // Once the grace period has passed, the next build prunes them.
    const longAgo = new Date(Date.now() - RETIRED_BUILD_GRACE_MS - 1000);
    for (const id of ids) {
      await utimes(path.join(root, ".dist-builds", id), longAgo, longAgo);
    }
    const next = await stagedBuild("day 6", new Date("2026-01-06T00:00:00Z"));
    await publishBuild(next);
    const kept = await readdir(path.join(root, ".dist-builds"));
    expect(kept.sort()).toEqual([...ids, next.buildId].slice(-BUILDS_TO_KEEP));
  });

  it("gives a watch-mode rebuild a new build ID and an empty staging folder", async () => {
    const target = await stagedBuild("first", new Date("2026-01-01T00:00:00Z"));
    const firstId = target.buildId;
    await publishBuild(target);

    await beginBuild(target);

    expect(target.buildId).not.toBe(firstId);
    expect(target.published).toBe(false);
    expect(await readdir(target.stagingDir)).toEqual([]);
  });
});
