import { describe, expect, it } from "vitest";
import { filePathFor, parseRequestPath, resolveInside } from "../../server/site/paths.ts";

describe("parseRequestPath", () => {
  it("decodes the path once and keeps the raw form and query for redirects", () => {
    expect(parseRequestPath("/posts/caf%C3%A9/?ref=rss")).toEqual({
      ok: true,
      pathname: "/posts/café/",
      rawPathname: "/posts/caf%C3%A9/",
      rawQuery: "ref=rss",
    });
  });

  it.each([
    "/../secret",
    "/a/../../secret",
    "/%2e%2e/secret",
    "/a/%2E%2E%2F%2E%2E%2Fsecret",
    "/a\\..\\secret",
    "/a/%5C../secret",
    "/a%00.html",
    "/a/./b",
    "/a/..",
    "//evil.example/",
    "/a//b",
    "/%E0%A4%A",
    "http://evil.example/",
    "",
  ])("refuses %j", (target) => {
    expect(parseRequestPath(target).ok).toBe(false);
  });

  it("leaves a double-encoded dot as a literal name, which matches no folder", () => {
    const parsed = parseRequestPath("/%252e%252e/secret");
    expect(parsed).toMatchObject({ ok: true, pathname: "/%2e%2e/secret" });
  });
});

describe("filePathFor", () => {
  it("maps a folder URL to its index.html", () => {
    expect(filePathFor("/posts/x/")).toBe("/posts/x/index.html");
    expect(filePathFor("/style.css")).toBe("/style.css");
  });
});

describe("resolveInside", () => {
  it("joins paths that stay inside the root", () => {
    expect(resolveInside("/srv/build/public", "/posts/x/index.html")).toBe(
      "/srv/build/public/posts/x/index.html",
    );
    expect(resolveInside("/srv/build/gated/core", "posts/x/chart.png")).toBe(
      "/srv/build/gated/core/posts/x/chart.png",
    );
  });

  it("returns null for anything that would leave it, or is the root itself", () => {
    expect(resolveInside("/srv/build/public", "/../gated/core/x.html")).toBeNull();
    expect(resolveInside("/srv/build/public", "../public-other/x")).toBeNull();
    expect(resolveInside("/srv/build/public", "/")).toBeNull();
  });
});
