import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../lib/manifest.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The catch-all route on the built server, over a small hand-made build whose
 * folder is a symlink, as the real build leaves it: public pages, teasers and
 * full pages by tier, attachments, the 404 page, traversal attempts, and a new
 * build swapped in while the server runs.
 */

let stack: Stack;
let folder: string;

const CORE_PAGE = "/posts/core-deep-dive/";
const CORE_FILE = "/posts/core-deep-dive/data.csv";
const SPARK_PAGE = "/posts/spark-notes/";

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "tierwall-serving-"));
  writeBuild("build-a");
  symlinkSync("build-a", join(folder, "dist"));
  writeFileSync(join(folder, "outside-secret.txt"), "OUTSIDE-SECRET");

  stack = await startStack({ distDir: join(folder, "dist") });
});

afterAll(async () => {
  await stack?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function writeBuild(buildId: string): void {
  const manifest: Manifest = {
    buildId,
    builtAt: new Date().toISOString(),
    tiers: ["free", "spark", "core", "lightning"],
    routes: {
      [CORE_PAGE]: {
        tier: "core",
        file: "posts/core-deep-dive/index.html",
        teaser: true,
      },
      [CORE_FILE]: { tier: "core", file: "posts/core-deep-dive/data.csv", teaser: false },
      [SPARK_PAGE]: { tier: "spark", file: "posts/spark-notes/index.html", teaser: true },
    },
  };
  const files: Record<string, string> = {
    "manifest.json": JSON.stringify(manifest),
    "public/index.html": `<h1>Home of ${buildId}</h1>`,
    "public/404.html": "<h1>No such page</h1>",
    "public/about/index.html": "<h1>About</h1>",
    "public/style.css": "body { margin: 0 }",
    "public/posts/core-deep-dive/index.html": `<h1>Core teaser</h1><a>Subscribe</a>`,
    "public/posts/spark-notes/index.html": "<h1>Spark teaser</h1>",
    "gated/core/posts/core-deep-dive/index.html": `<h1>CORE-SECRET full text of ${buildId}</h1>`,
    "gated/core/posts/core-deep-dive/data.csv": "CORE-SECRET,csv\n",
    "gated/spark/posts/spark-notes/index.html": "<h1>SPARK-SECRET full text</h1>",
  };
  for (const [path, content] of Object.entries(files)) {
    const target = join(folder, buildId, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

function get(path: string, cookie?: string): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
}

/** A reader whose stored subscription gives them `tier` (or none, when null). */
async function readerWithTier(tier: string | null, status = "active"): Promise<string> {
  const reader = await stack.signUp();
  if (tier !== null) stack.storeSubscription(reader.email, tier, status);
  return reader.cookie;
}

/** Sends the path exactly as written: fetch would resolve "..", a browser too. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: "GET" },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("public paths", () => {
  it("serves a page with an HTML content type that caches must revalidate", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe("<h1>Home of build-a</h1>");
  });

  it("serves assets with their content type and a modest cache lifetime", async () => {
    const response = await get("/style.css");
    expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(await response.text()).toBe("body { margin: 0 }");
  });

  it("redirects a folder without its slash, like a static host", async () => {
    const response = await get("/about?from=nav");
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/about/?from=nav");
    expect(await (await get("/about/")).text()).toBe("<h1>About</h1>");
  });

  it("answers an unknown path with the site's 404 page and status 404", async () => {
    const response = await get("/no/such/page/");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toBe("<h1>No such page</h1>");
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const response = await fetch(`${stack.baseUrl}/style.css`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("18");
    expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await response.text()).toBe("");
  });
});

describe("gated paths", () => {
  it("give an anonymous reader the teaser, marked private and never stored", async () => {
    const response = await get(CORE_PAGE);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const html = await response.text();
    expect(html).toContain("Core teaser");
    expect(html).not.toContain("CORE-SECRET");
  });

  it("give the full page to a reader whose stored tier is high enough", async () => {
    const core = await readerWithTier("core");

    for (const path of [CORE_PAGE, `${CORE_PAGE}index.html`, SPARK_PAGE]) {
      const response = await get(path, core);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("private, no-store");
      expect(await response.text()).toMatch(/(CORE|SPARK)-SECRET/);
    }
  });

  it("give the teaser to a signed-in reader of a lower tier", async () => {
    for (const cookie of [await readerWithTier(null), await readerWithTier("spark")]) {
      const response = await get(CORE_PAGE, cookie);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("private, no-store");
      expect(await response.text()).not.toContain("CORE-SECRET");
    }
  });

  it("give the teaser once a subscription has been canceled", async () => {
    const lapsed = await readerWithTier("core", "canceled");
    expect(await (await get(CORE_PAGE, lapsed)).text()).not.toContain("CORE-SECRET");
  });

  it("refuse a gated attachment with 403 to readers below its tier", async () => {
    const anonymous = await get(CORE_FILE);
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get("cache-control")).toBe("private, no-store");
    const body = await anonymous.text();
    expect(body).toContain("Core Stacker");
    expect(body).not.toContain("CORE-SECRET");

    const json = await fetch(`${stack.baseUrl}${CORE_FILE}`, {
      headers: { accept: "application/json" },
    });
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ statusCode: 403 });
  });

  it("serve a gated attachment to its tier with its content type", async () => {
    const response = await get(CORE_FILE, await readerWithTier("lightning"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(await response.text()).toBe("CORE-SECRET,csv\n");
  });

  it("redirect a page asked for without its slash, still privately", async () => {
    const response = await get("/posts/core-deep-dive");
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe(CORE_PAGE);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("answer HEAD privately, without the body", async () => {
    const response = await fetch(`${stack.baseUrl}${CORE_PAGE}`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(await response.text()).toBe("");
  });
});

describe("paths that try to leave the bundle", () => {
  const attempts = [
    "/../outside-secret.txt",
    "/../../outside-secret.txt",
    "/%2e%2e/outside-secret.txt",
    "/%2E%2E%2Foutside-secret.txt",
    "/..%2f..%2foutside-secret.txt",
    "/%252e%252e/outside-secret.txt",
    "/..\\outside-secret.txt",
    "/%5c..%5coutside-secret.txt",
    "/posts/../../gated/core/posts/core-deep-dive/index.html",
    "/posts/%2e%2e/%2e%2e/gated/core/posts/core-deep-dive/data.csv",
    "/../gated/core/posts/core-deep-dive/index.html",
    "/gated/core/posts/core-deep-dive/index.html",
    "/public/../gated/spark/posts/spark-notes/index.html",
    "/manifest.json",
    "/../manifest.json",
    "/index.html%00.css",
    "//outside-secret.txt",
    "/posts/core-deep-dive/./index.html",
  ];

  it.each(attempts)("%s is refused without leaking a file", async (path) => {
    const { status, body } = await rawGet(path);
    expect([400, 404]).toContain(status);
    expect(body).not.toMatch(/SECRET|buildId/);
  });
});

describe("a new build", () => {
  it("is served without a restart once the symlink is swapped", async () => {
    writeBuild("build-b");
    const link = join(folder, "dist");
    symlinkSync("build-b", `${link}.next`);
    renameSync(`${link}.next`, link);

    const deadline = Date.now() + 5000;
    let home = "";
    while (Date.now() < deadline) {
      home = await (await get("/")).text();
      if (home.includes("build-b")) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(home).toBe("<h1>Home of build-b</h1>");

    const health = await (await get("/api/health")).json();
    expect(health).toEqual({ ok: true, buildId: "build-b" });
    const core = await readerWithTier("core");
    expect(await (await get(CORE_PAGE, core)).text()).toContain("full text of build-b");
  });
});
