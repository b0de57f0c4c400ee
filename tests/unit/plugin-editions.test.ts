import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { buildSite } from "../../plugin/build.ts";
import { createFixtureSite, type FixtureSite, post } from "./plugin-fixture.ts";

const closedSentence = "Everything in this post waits behind the paywall.";

let site: FixtureSite;
let manifest: Manifest;

beforeAll(async () => {
  site = await createFixtureSite({
    "posts/all-closed.md": post(
      { title: "All closed", tier: "spark", date: "2026-03-01" },
      closedSentence,
    ),
    "posts/not-yet.md": post(
      { title: "Not yet", tier: "core", draft: "true" },
      "A draft that nobody should see.",
    ),
    "posts/open-folder/index.md": post(
      { title: "Open folder", date: "2026-02-01" },
      "A free post with a picture.\n\n![Diagram](diagram.svg)",
    ),
    "posts/open-folder/diagram.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
  });
  await buildSite({ contentDir: site.contentDir, distDir: site.distDir, quiet: true });
  manifest = JSON.parse(await site.read("manifest.json"));
}, 60_000);

afterAll(async () => {
  await site.remove();
});

describe("post editions", () => {
  it("gives a gated post without marker or teaser an empty public teaser", async () => {
    const teaser = await site.read("public/posts/all-closed/index.html");
    const full = await site.read("gated/spark/posts/all-closed/index.html");

    expect(teaser).toContain("All closed");
    expect(teaser).toContain('data-testid="paywall"');
    expect(teaser).not.toContain(closedSentence);
    expect(full).toContain(closedSentence);
  });

  it("publishes nothing of a draft", async () => {
    const everything = JSON.stringify(manifest) + (await site.read("public/feed.xml"));
    expect(everything).not.toContain("not-yet");
    await expect(site.read("public/posts/not-yet/index.html")).rejects.toThrow();
  });

  it("ships a free post's attachments in the public bundle without routes", async () => {
    expect(await site.read("public/posts/open-folder/diagram.svg")).toContain("<svg");
    expect(manifest.routes["/posts/open-folder/diagram.svg"]).toBeUndefined();
  });

  it("lists only gated paths in the manifest, pages with a teaser", () => {
    expect(manifest.routes).toEqual({
      "/posts/all-closed/": {
        tier: "spark",
        file: "posts/all-closed/index.html",
        teaser: true,
      },
    });
    expect(manifest.tiers).toEqual(["free", "spark", "core", "lightning"]);
  });

  it("lists posts newest first in the index and the feed", async () => {
    const index = await site.read("public/posts/index.html");
    expect(index.indexOf("All closed")).toBeLessThan(index.indexOf("Open folder"));

    const feed = await site.read("public/feed.xml");
    expect(feed.match(/<entry>/g)).toHaveLength(2);
    expect(feed).toContain('<category term="spark" label="Spark Stacker"/>');
  });

  it("builds into the folder it was given", () => {
    expect(path.basename(site.distDir)).toBe("dist");
    expect(manifest.buildId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
  });
});

describe("gated post front matter", { timeout: 60_000 }, () => {
  it("refuses a permalink on a gated post", async () => {
    const other = await createFixtureSite({
      "posts/moved.md": post(
        { title: "Moved", tier: "core", permalink: "/elsewhere/" },
        "Body.",
      ),
    });
    const build = buildSite({
      contentDir: other.contentDir,
      distDir: other.distDir,
      quiet: true,
    });

    await expect(build).rejects.toThrow(
      /posts\/moved\.md: a gated post cannot set `permalink:`/,
    );
    await other.remove();
  });
});
