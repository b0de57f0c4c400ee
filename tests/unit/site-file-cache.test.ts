import { describe, expect, it } from "vitest";
import { CACHEABLE_FILE_BYTES, FileCache } from "../../server/site/file-cache.ts";

function file(bytes: number, text = "x") {
  return {
    body: Buffer.alloc(bytes, text),
    contentType: "text/html; charset=utf-8",
    lastModified: "Thu, 01 Jan 2026 00:00:00 GMT",
  };
}

describe("a build's cache of small files", () => {
  it("gives back what was stored under the file's path", () => {
    const cache = new FileCache();
    cache.set("/b/public/index.html", file(10, "a"));
    expect(cache.get("/b/public/index.html")?.body.toString()).toBe("a".repeat(10));
    expect(cache.get("/b/public/other.html")).toBeUndefined();
  });

  it("drops the least recently used files once it holds more than its budget", () => {
    const cache = new FileCache(300);
    cache.set("/one", file(100));
    cache.set("/two", file(100));
    cache.set("/three", file(100));
    cache.get("/one");
    cache.set("/four", file(100));

    expect(cache.get("/two")).toBeUndefined();
    expect(cache.get("/one")).toBeDefined();
    expect(cache.get("/three")).toBeDefined();
    expect(cache.get("/four")).toBeDefined();
    expect(cache.bytes).toBe(300);
  });

  it("never keeps a file above the size that is streamed instead", () => {
    const cache = new FileCache();
    cache.set("/large.pdf", file(CACHEABLE_FILE_BYTES + 1));
    expect(cache.get("/large.pdf")).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it("counts a file stored twice once", () => {
    const cache = new FileCache();
    cache.set("/page", file(100));
    cache.set("/page", file(40));
    expect(cache.bytes).toBe(40);
  });
});
