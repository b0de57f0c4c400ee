import { describe, expect, it } from "vitest";
import { candidateKeys, lookupRoute, type Manifest } from "../../lib/manifest.ts";

const manifest: Manifest = {
  buildId: "20260101T000000000Z-abcdef",
  builtAt: "2026-01-01T00:00:00.000Z",
  tiers: ["free", "spark", "core", "lightning"],
  routes: {
    "/posts/runbook/": { tier: "core", file: "posts/runbook/index.html", teaser: true },
    "/posts/runbook/chart.svg": {
      tier: "core",
      file: "posts/runbook/chart.svg",
      teaser: false,
    },
  },
};

describe("manifest routing", () => {
  it("finds a gated page by its canonical path", () => {
    expect(lookupRoute(manifest, "/posts/runbook/")?.file).toBe(
      "posts/runbook/index.html",
    );
  });

  it("finds a gated page without its trailing slash", () => {
    expect(lookupRoute(manifest, "/posts/runbook")?.tier).toBe("core");
  });

  it("finds a gated page asked for as index.html", () => {
    expect(lookupRoute(manifest, "/posts/runbook/index.html")?.teaser).toBe(true);
  });

  it("ignores the query string", () => {
    expect(lookupRoute(manifest, "/posts/runbook/?utm_source=feed")?.tier).toBe("core");
  });

  it("finds an attachment, which has no teaser", () => {
    const route = lookupRoute(manifest, "/posts/runbook/chart.svg");
    expect(route).toEqual({
      tier: "core",
      file: "posts/runbook/chart.svg",
      teaser: false,
    });
  });

  it("does not treat an attachment path with a slash as a page", () => {
    expect(lookupRoute(manifest, "/posts/runbook/chart.svg/")).toBeUndefined();
  });

  it("leaves public paths to the public bundle", () => {
    expect(lookupRoute(manifest, "/posts/")).toBeUndefined();
    expect(lookupRoute(manifest, "/posts/free-post/")).toBeUndefined();
    expect(lookupRoute(manifest, "/posts/runbook-2/")).toBeUndefined();
  });

  it("tries the exact path before the directory form", () => {
    expect(candidateKeys("/posts/x")).toEqual(["/posts/x", "/posts/x/"]);
    expect(candidateKeys("/posts/x/index.html")).toEqual(["/posts/x/"]);
  });
});
