import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRandomPort } from "get-port-please";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeCookieHeader } from "../../scripts/edge-nginx.ts";
import { cookiePair, maxAgeOf } from "../helpers/accounts.ts";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { postJsonTo } from "../helpers/http.ts";
import { nginxAvailable, type RunningNginx, startNginx } from "../helpers/nginx.ts";
import { currentTestBuild } from "../helpers/paths.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The edge arrangement end to end: the built server with EDGE_COOKIE_SECRET,
 * nginx with the rendered configuration in front of it, and every request
 * made through nginx as a browser would. Which of the two answered is read
 * from the server's request log, or proven by stopping the server.
 */

const SECRET = randomBytes(32).toString("base64");
const TTL = 300;
const PASSWORD = "correct horse battery";

const SPARK_POST = "/posts/sqlite-in-production/";
const CORE_POST = "/posts/runbook-disk-full/";
const CORE_FILE = "/posts/teardown-retry-storm/request-rate.svg";
const LIGHTNING_POST = "/posts/field-report-q1/";

let folder: string;
let distDir: string;
let stack: Stack;
let billing: Billing;
let nginx: RunningNginx;
let readers = 0;

describe.skipIf(!nginxAvailable())("gated pages at the edge (nginx, http)", () => {
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "tierwall-edge-"));
    distDir = copyBuild(folder);
    const nginxPort = await getRandomPort("127.0.0.1");
    const nginxUrl = `http://127.0.0.1:${nginxPort}`;
    stack = await startStack({
      distDir,
      env: {
        EDGE_COOKIE_SECRET: SECRET,
        EDGE_COOKIE_TTL_SECONDS: String(TTL),
        ALLOWED_ORIGINS: nginxUrl,
        TRUST_PROXY: "1",
      },
    });
    billing = billingFor(stack);
    nginx = await startNginx({
      distDir,
      upstream: stack.baseUrl,
      secret: SECRET,
      listen: { host: "127.0.0.1", port: nginxPort },
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await stack?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it("serves public pages and assets itself, with the server's headers", async () => {
    const before = await serverRequests("/");
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toBe(publicFile("/index.html"));

    const css = await get("/assets/site.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(css.headers.get("x-content-type-options")).toBe("nosniff");

    const feed = await get("/feed.xml");
    expect(feed.headers.get("content-type")).toBe("application/atom+xml; charset=utf-8");
    expect(await serverRequests("/")).toBe(before);
  });

  it("passes the API to the server: sign-in through nginx sets a cookie per tier the reader may read", async () => {
    const reader = await signUp();
    stack.storeSubscription(reader.email, "core");
    const response = await signIn(reader.email);

    const edge = edgeSetCookies(response);
    expect([...edge.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_spark",
    ]);
    for (const header of edge.values()) {
      expect(header).toMatch(/; HttpOnly/);
      expect(header).toMatch(/; SameSite=Lax/);
      expect(header).toMatch(/; Path=\//);
      expect(header).not.toMatch(/; Secure/);
      expect(maxAgeOf(header)).toBe(TTL);
      expect(cookiePair(header)).toMatch(/^tierwall_edge_\w+=[A-Za-z0-9_-]{22},\d+$/);
    }
  });

  it("gives an entitled reader the full gated page from nginx, without the server", async () => {
    const { edge } = await readerOf("core");
    const before = await serverRequests(CORE_POST);

    const page = await get(CORE_POST, edge);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(gatedFile("core", CORE_POST));
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("private, no-store");
    expect(page.headers.get("vary")).toBe("Cookie");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");

    const lower = await get(SPARK_POST, edge);
    expect(await lower.text()).toBe(gatedFile("spark", SPARK_POST));
    const chart = await get(CORE_FILE, edge);
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(await serverRequests(CORE_POST)).toBe(before);
  });

  it("sends a reader without a cookie to the server, which gives the teaser", async () => {
    const before = await serverRequests(CORE_POST);
    const page = await get(CORE_POST);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(publicFile(CORE_POST));
    expect(page.headers.get("cache-control")).toBe("private, no-store");
    expect(await serverRequests(CORE_POST)).toBe(before + 1);

    const chart = await get(CORE_FILE);
    expect(chart.status).toBe(403);
  });

  it("gives the teaser for a higher tier's post to a reader holding a lower tier's cookie", async () => {
    const { edge } = await readerOf("core");
    const page = await get(LIGHTNING_POST, edge);
    expect(await page.text()).toBe(publicFile(LIGHTNING_POST));
  });

  it("refuses a cookie signed for one tier under another tier's name", async () => {
    const spark = edgeCookieHeader({ secret: SECRET, tier: "spark" });
    const moved = spark.replace("tierwall_edge_spark=", "tierwall_edge_core=");
    expect(await (await get(CORE_POST, moved)).text()).toBe(publicFile(CORE_POST));

    const core = edgeCookieHeader({ secret: SECRET, tier: "core" });
    const asLightning = core.replace("tierwall_edge_core=", "tierwall_edge_lightning=");
    expect(await (await get(LIGHTNING_POST, asLightning)).text()).toBe(
      publicFile(LIGHTNING_POST),
    );
  });

  it("refuses a tampered cookie: a changed signature, a later expiry, another secret", async () => {
    const good = edgeCookieHeader({ secret: SECRET, tier: "core" });
    const [name, value = ""] = good.split("=");
    const [hash = "", expires = ""] = value.split(",");
    const flipped = `${hash.slice(0, 5)}${hash[5] === "A" ? "B" : "A"}${hash.slice(6)}`;
    const forged = [
      `${name}=${flipped},${expires}`,
      `${name}=${hash},${Number(expires) + 86_400}`,
      `${name}=${hash}`,
      `${name}=${hash},0${expires}`,
      edgeCookieHeader({ secret: randomBytes(32).toString("base64"), tier: "core" }),
    ];
    for (const cookie of forged) {
      expect(await (await get(CORE_POST, cookie)).text()).toBe(publicFile(CORE_POST));
    }
  });

  it("sends an expired cookie to the server: the teaser when signed out", async () => {
    const expired = edgeCookieHeader({
      secret: SECRET,
      tier: "core",
      nowSeconds: Math.floor(Date.now() / 1000) - 2 * TTL,
    });
    const page = await get(CORE_POST, expired);
    expect(await page.text()).toBe(publicFile(CORE_POST));
    // A signed-out browser has its edge cookies cleared.
    expect(maxAgeOf(edgeSetCookies(page).get("tierwall_edge_core") ?? "")).toBe(0);
  });

  it("sends an expired cookie to the server: the full page and fresh cookies while the session lives", async () => {
    const { session } = await readerOf("core");
    const expired = ["spark", "core"]
      .map((tier) =>
        edgeCookieHeader({
          secret: SECRET,
          tier,
          nowSeconds: Math.floor(Date.now() / 1000) - 2 * TTL,
        }),
      )
      .join("; ");
    const before = await serverRequests(CORE_POST);

    const page = await get(CORE_POST, `${session}; ${expired}`);
    expect(await page.text()).toBe(gatedFile("core", CORE_POST));
    expect(await serverRequests(CORE_POST)).toBe(before + 1);
    const fresh = edgeSetCookies(page);
    expect([...fresh.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_spark",
    ]);

    const again = await get(CORE_POST, cookieHeader(fresh));
    expect(await again.text()).toBe(gatedFile("core", CORE_POST));
    expect(await serverRequests(CORE_POST)).toBe(before + 1);
  });

  it("never hands out the bundles or the manifest by their own paths", async () => {
    const { edge } = await readerOf("lightning");
    const fullText = gatedFile("core", CORE_POST);
    const raw = [
      "/manifest.json",
      "/dist/manifest.json",
      `/gated/core${CORE_POST}index.html`,
      `/dist/gated/core${CORE_POST}index.html`,
      `/.tierwall-gated/core${CORE_POST}index.html`,
      "/gated/core/feeds/full.xml",
      "/feeds/full.xml",
      `/public/..%2Fgated/core${CORE_POST}index.html`,
    ];
    for (const path of raw) {
      for (const cookie of [undefined, edge]) {
        const response = await get(path, cookie);
        const body = await response.text();
        expect(response.status, path).not.toBe(200);
        expect(body).not.toBe(fullText);
        expect(body).not.toContain('"routes"');
      }
    }
  });

  it("clears the edge cookies at sign-out through nginx", async () => {
    const { session, edge } = await readerOf("spark");
    const response = await fetch(`${nginx.url}/api/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: nginx.url, cookie: `${session}; ${edge}` },
    });
    expect(response.status).toBe(303);
    const cleared = edgeSetCookies(response);
    expect([...cleared.keys()]).toEqual(["tierwall_edge_spark"]);
    expect(maxAgeOf(cleared.get("tierwall_edge_spark") ?? "")).toBe(0);
  });

  it("clears the edge cookies in the answer that deletes the account", async () => {
    const { session, edge } = await readerOf("core");
    const response = await postJson(
      "/api/account/delete",
      { currentPassword: PASSWORD },
      `${session}; ${edge}`,
    );
    expect(response.status).toBe(200);
    const cleared = edgeSetCookies(response);
    expect([...cleared.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_spark",
    ]);
    for (const header of cleared.values()) expect(maxAgeOf(header)).toBe(0);
  });

  it("stops reissuing a tier that dropped, and clears its cookie at the next request to the server", async () => {
    const { email, session, edge } = await readerOf("core");
    const db = stack.openDb();
    db.prepare(
      "UPDATE subscription SET status = 'canceled' WHERE user_id = (SELECT id FROM user WHERE email = ?)",
    ).run(email);
    db.close();

    const me = await get("/api/me", `${session}; ${edge}`);
    const cleared = edgeSetCookies(me);
    expect([...cleared.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_spark",
    ]);
    for (const header of cleared.values()) expect(maxAgeOf(header)).toBe(0);
    expect(me.headers.get("cache-control")).toBe("private, no-store");

    // The server gives the teaser from now on; a cookie already handed out
    // keeps working at nginx until it expires: the documented delay.
    const viaServer = await get(CORE_POST, session);
    expect(await viaServer.text()).toBe(publicFile(CORE_POST));
    expect(edgeSetCookies(viaServer).size).toBe(0);
    expect(await (await get(CORE_POST, edge)).text()).toBe(gatedFile("core", CORE_POST));
  });

  it("issues the new tier's cookie at the next request to the server after an upgrade", async () => {
    const { email, session, edge } = await readerOf("spark");
    stack.storeSubscription(email, "lightning");
    const me = await get("/api/me", `${session}; ${edge}`);
    const issued = edgeSetCookies(me);
    expect([...issued.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_lightning",
    ]);
    const page = await get(LIGHTNING_POST, cookieHeader(issued));
    expect(await page.text()).toBe(gatedFile("lightning", LIGHTNING_POST));
  });

  it("follows a plan change and a cancellation in Stripe: the webhook stores them, the next answer from the server moves the edge cookies, nginx follows", async () => {
    const reader = await signedInReader();
    await billing.subscribe(reader, await billing.priceOf("spark"));
    await stack.flushWebhooks();
    const asSpark = edgeSetCookies(await get("/api/me", reader.cookie));
    expect([...asSpark.keys()]).toEqual(["tierwall_edge_spark"]);

    // An upgrade made in Stripe (the Billing Portal, support): only the
    // webhook tells the server.
    const subscription = await billing.stripeSubscription(reader);
    await stack.stripe.subscriptions.update(subscription.id, {
      items: [
        { id: subscription.items.data[0]?.id, price: await billing.priceOf("lightning") },
      ],
    });
    await stack.flushWebhooks();
    const held = `${reader.cookie}; ${cookieHeader(asSpark)}`;
    const upgraded = edgeSetCookies(await get("/api/me", held));
    expect([...upgraded.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_lightning",
    ]);
    const edge = cookieHeader(new Map([...asSpark, ...upgraded]));
    const before = await serverRequests(LIGHTNING_POST);
    const page = await get(LIGHTNING_POST, edge);
    expect(await page.text()).toBe(gatedFile("lightning", LIGHTNING_POST));
    expect(await serverRequests(LIGHTNING_POST)).toBe(before);

    await stack.stripe.subscriptions.cancel(subscription.id);
    await stack.flushWebhooks();
    const canceled = await get("/api/me", `${reader.cookie}; ${edge}`);
    const cleared = edgeSetCookies(canceled);
    expect([...cleared.keys()].sort()).toEqual([
      "tierwall_edge_core",
      "tierwall_edge_lightning",
      "tierwall_edge_spark",
    ]);
    for (const header of cleared.values()) expect(maxAgeOf(header)).toBe(0);
    const teaser = await get(LIGHTNING_POST, reader.cookie);
    expect(await teaser.text()).toBe(publicFile(LIGHTNING_POST));
    expect(await serverRequests(LIGHTNING_POST)).toBe(before + 1);
  });

  it("sets the new tier's edge cookies in the answer that returns from Checkout, before any webhook", async () => {
    const reader = await signedInReader();
    await billing.emulator.hold();
    try {
      const success = new URL(
        await billing.subscribe(reader, await billing.priceOf("core")),
      );
      const answer = await get(`${success.pathname}${success.search}`, reader.cookie);
      expect(answer.status).toBe(303);
      expect(answer.headers.get("location")).toBe("/account/?checkout=success");
      expect(await billing.emulator.held()).not.toEqual([]);

      const issued = edgeSetCookies(answer);
      expect([...issued.keys()].sort()).toEqual([
        "tierwall_edge_core",
        "tierwall_edge_spark",
      ]);
      const page = await get(CORE_POST, cookieHeader(issued));
      expect(await page.text()).toBe(gatedFile("core", CORE_POST));
    } finally {
      await billing.emulator.release();
      await billing.emulator.stopHolding();
      await stack.flushWebhooks();
    }
  });

  it("keeps a private feed's token out of nginx's access log", async () => {
    const { session } = await readerOf("core");
    const logged = accessLog().length;
    const response = await fetch(`${nginx.url}/api/feed`, {
      headers: { accept: "application/json", cookie: session },
    });
    const { url } = (await response.json()) as { url: string };
    const path = new URL(url).pathname;
    const token = /^\/feeds\/([^/]+)\.xml$/.exec(path)?.[1] ?? "";
    expect(token.length).toBeGreaterThan(20);

    const feed = await get(path);
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain("<feed");
    // Spelled otherwise, the address reaches the same location and format.
    for (const spelling of [`/${path}`, path.replace("/feeds/", "/%66eeds/")]) {
      await get(`${spelling}?again=${token}`);
    }
    expect((await get(`/?ref=${token}`)).status).toBe(200);

    const log = await accessLogWhen(
      logged,
      (text) =>
        count(text, '"GET /feeds/[token] HTTP/1.1"') === 3 &&
        text.includes('"GET /?[query] HTTP/1.1" 200'),
    );
    expect(count(log, '"GET /feeds/[token] HTTP/1.1"')).toBe(3);
    expect(log).toContain('"GET /feeds/[token] HTTP/1.1" 200');
    expect(log).toContain('"GET /?[query] HTTP/1.1" 200');
    expect(log).not.toContain(token);
    expect(nginx.errorLog()).not.toContain(token);
  });

  it("follows a new build swapped in under dist without a reload", async () => {
    const { edge: sparkEdge } = await readerOf("spark");
    const { edge: coreEdge } = await readerOf("core");
    expect(await (await get(SPARK_POST, sparkEdge)).text()).toBe(
      gatedFile("spark", SPARK_POST),
    );

    // The next build moves the spark post up to core.
    swapInBuild((build) => {
      const from = join(build, "gated/spark", SPARK_POST);
      cpSync(from, join(build, "gated/core", SPARK_POST), { recursive: true });
      rmSync(from, { recursive: true });
      const manifestPath = join(build, "manifest.json");
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
      manifest.buildId = `${manifest.buildId}-moved`;
      manifest.routes[SPARK_POST].tier = "core";
      writeFileSync(manifestPath, JSON.stringify(manifest));
    });
    expect(await (await get(SPARK_POST, sparkEdge)).text()).toBe(publicFile(SPARK_POST));
    expect(await (await get(SPARK_POST, coreEdge)).text()).toBe(
      gatedFile("core", SPARK_POST),
    );
  });

  it("keeps serving entitled readers with the server stopped", async () => {
    const { edge } = await readerOf("core");
    await stack.server.stop();
    const page = await get(CORE_POST, edge);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(gatedFile("core", CORE_POST));
    expect((await get(CORE_POST)).status).toBe(502);
  });
});

describe.skipIf(!nginxAvailable() || !hasOpenssl())(
  "gated pages at the edge (nginx, TLS)",
  () => {
    let tlsFolder: string;
    let tlsStack: Stack;
    let tlsNginx: RunningNginx;
    let ca: string;

    beforeAll(async () => {
      tlsFolder = mkdtempSync(join(tmpdir(), "tierwall-edge-tls-"));
      const tls = selfSignedCertificate(tlsFolder);
      ca = readFileSync(tls.cert, "utf8");
      const port = await getRandomPort("127.0.0.1");
      const siteUrl = `https://127.0.0.1:${port}`;
      tlsStack = await startStack({
        env: { EDGE_COOKIE_SECRET: SECRET, SITE_URL: siteUrl, TRUST_PROXY: "1" },
      });
      tlsNginx = await startNginx({
        distDir: tlsStack.distDir,
        upstream: tlsStack.baseUrl,
        secret: SECRET,
        tls,
        listen: { host: "127.0.0.1", port },
      });
    });

    afterAll(async () => {
      await tlsNginx?.stop();
      await tlsStack?.stop();
      if (tlsFolder) rmSync(tlsFolder, { recursive: true, force: true });
    });

    it("signs in over TLS with Secure __Host- edge cookies, and serves the gated page from them", async () => {
      const email = newEmail();
      const signUp = await httpsRequest("POST", "/api/auth/signup", {
        email,
        password: PASSWORD,
      });
      expect(signUp.status).toBe(201);
      tlsStack.storeSubscription(email, "spark");

      const signIn = await httpsRequest("POST", "/api/auth/login", {
        email,
        password: PASSWORD,
      });
      expect(signIn.status).toBe(200);
      const edge = signIn.setCookies.filter((header) =>
        header.includes("tierwall_edge_"),
      );
      expect(edge).toHaveLength(1);
      expect(edge[0]).toMatch(
        /^__Host-tierwall_edge_spark=[^;]+; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
      );

      const page = await httpsRequest(
        "GET",
        SPARK_POST,
        undefined,
        cookiePair(edge[0] ?? ""),
      );
      expect(page.status).toBe(200);
      expect(page.headers["cache-control"]).toBe("private, no-store");
      expect(page.body).toBe(
        readFileSync(
          join(tlsStack.distDir, "gated/spark", SPARK_POST, "index.html"),
          "utf8",
        ),
      );

      // The plain name is not honoured on an https site.
      const plain = cookiePair(edge[0] ?? "").replace("__Host-", "");
      const teaser = await httpsRequest("GET", SPARK_POST, undefined, plain);
      expect(teaser.body).toBe(
        readFileSync(join(tlsStack.distDir, "public", SPARK_POST, "index.html"), "utf8"),
      );
    });

    it("redirects plain http on its redirect port to the same address over https", async () => {
      const path = `${SPARK_POST}?ref=letter`;
      const answer = await fetch(`http://127.0.0.1:${tlsNginx.redirectPort}${path}`, {
        redirect: "manual",
      });
      expect(answer.status).toBe(301);
      expect(answer.headers.get("location")).toBe(`${tlsNginx.url}${path}`);
    });

    function httpsRequest(
      method: string,
      path: string,
      json?: Record<string, string>,
      cookie?: string,
    ): Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      setCookies: string[];
      body: string;
    }> {
      const payload = json ? JSON.stringify(json) : undefined;
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: tlsNginx.port,
            path,
            method,
            ca,
            headers: {
              ...(payload
                ? {
                    "content-type": "application/json",
                    accept: "application/json",
                    origin: tlsNginx.url,
                  }
                : {}),
              ...(cookie ? { cookie } : {}),
            },
          },
          (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              body += chunk;
            });
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                setCookies: res.headers["set-cookie"] ?? [],
                body,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(payload);
      });
    }
  },
);

/** A copy of the test build behind a symlink of its own, so it can be swapped. */
function copyBuild(into: string): string {
  const source = realpathSync(currentTestBuild().distDir);
  cpSync(source, join(into, "builds/first"), { recursive: true });
  const link = join(into, "dist");
  symlinkSync(join(into, "builds/first"), link);
  return link;
}

let swaps = 0;

/** Builds the next folder from the live one, then swaps the symlink in one rename. */
function swapInBuild(change: (build: string) => void): void {
  swaps++;
  const next = join(folder, `builds/next-${swaps}`);
  cpSync(realpathSync(distDir), next, { recursive: true });
  change(next);
  const temporary = join(folder, `dist-${swaps}`);
  symlinkSync(next, temporary);
  renameSync(temporary, distDir);
}

function get(path: string, cookie?: string): Promise<Response> {
  return fetch(`${nginx.url}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
}

function publicFile(path: string): string {
  const file = path.endsWith("/") ? `${path}index.html` : path;
  return readFileSync(join(distDir, "public", file), "utf8");
}

function gatedFile(tier: string, path: string): string {
  const file = path.endsWith("/") ? `${path}index.html` : path;
  return readFileSync(join(distDir, "gated", tier, file), "utf8");
}

function newEmail(): string {
  readers++;
  return `edge-${readers}-${Date.now()}@example.com`;
}

function postJson(
  path: string,
  body: Record<string, string>,
  cookie?: string,
): Promise<Response> {
  return postJsonTo(nginx.url, path, body, { cookie });
}

async function signUp(): Promise<{ email: string }> {
  const email = newEmail();
  const response = await postJson("/api/auth/signup", { email, password: PASSWORD });
  expect(response.status).toBe(201);
  expect(edgeSetCookies(response).size).toBe(0);
  return { email };
}

async function signIn(email: string): Promise<Response> {
  const response = await postJson("/api/auth/login", { email, password: PASSWORD });
  expect(response.status).toBe(200);
  return response;
}

/** A reader of `tier`, signed in through nginx: their session and edge cookies. */
async function readerOf(
  tier: string,
): Promise<{ email: string; session: string; edge: string }> {
  const { email } = await signUp();
  stack.storeSubscription(email, tier);
  const response = await signIn(email);
  return {
    email,
    session: sessionOf(response),
    edge: cookieHeader(edgeSetCookies(response)),
  };
}

/** A reader with no plan, signed in through nginx, as the billing helpers take one. */
async function signedInReader(): Promise<Reader> {
  const { email } = await signUp();
  const response = await signIn(email);
  expect(edgeSetCookies(response).size).toBe(0);
  return { email, password: PASSWORD, cookie: sessionOf(response) };
}

function sessionOf(response: Response): string {
  const session = response.headers
    .getSetCookie()
    .find((header) => header.startsWith("tierwall_session="));
  return cookiePair(session ?? "");
}

/**
 * nginx's access log from `from` on, once `ready` says it holds what the test waits for: nginx
 * writes a line when it has finished a request, which may be just after the
 * client has the answer.
 */
async function accessLogWhen(
  from: number,
  ready: (log: string) => boolean,
): Promise<string> {
  const read = () => accessLog().slice(from);
  const deadline = Date.now() + 5_000;
  while (!ready(read()) && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 20));
  }
  return read();
}

/** The edge cookies an answer sets, by name. */
function edgeSetCookies(response: Response): Map<string, string> {
  const found = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const name = header.split("=")[0] ?? "";
    if (name.includes("tierwall_edge_")) found.set(name, header);
  }
  return found;
}

function cookieHeader(setCookies: Map<string, string>): string {
  return [...setCookies.values()].map(cookiePair).join("; ");
}

let marks = 0;

/**
 * How many requests for `path` reached the server. A request straight to the
 * server marks the log: once its line is in, every earlier line is too.
 */
async function serverRequests(path: string): Promise<number> {
  marks++;
  await fetch(`${stack.baseUrl}/api/health?mark=${marks}`);
  const marker = '"route":"/api/health?mark="';
  const deadline = Date.now() + 5_000;
  while (count(stack.server.output(), marker) < marks && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 20));
  }
  return count(stack.server.output(), `"route":${JSON.stringify(path)}`);
}

function accessLog(): string {
  const path = join(nginx.runtimeDir, "access.log");
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
      ],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  if (!existsSync(cert)) throw new Error("openssl made no certificate");
  return { cert, key };
}
