import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { gatedPage, readManifest } from "../helpers/site.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Private feeds on the built server and the example publication: the address a
 * signed-in reader gets, what a feed reader (no cookies) receives at it as the
 * reader's plan changes, resetting it, and what unknown addresses get.
 */

let stack: Stack;
const seenTokens = new Set<string>();

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

interface FeedReader {
  id: string;
  cookie: string;
}

/** A signed-up reader, with a stored subscription of `tier` when one is given. */
async function readerWithTier(
  tier: string | null,
  status = "active",
): Promise<FeedReader> {
  const reader = await stack.signUp();
  if (tier !== null) {
    return {
      id: stack.storeSubscription(reader.email, tier, status),
      cookie: reader.cookie,
    };
  }
  const db = stack.openDb();
  try {
    const { id } = db
      .prepare("SELECT id FROM user WHERE email = ?")
      .get(reader.email) as { id: string };
    return { id, cookie: reader.cookie };
  } finally {
    db.close();
  }
}

function setSubscriptionStatus(reader: FeedReader, status: string): void {
  const db = stack.openDb();
  try {
    db.prepare("UPDATE subscription SET status = ? WHERE user_id = ?").run(
      status,
      reader.id,
    );
  } finally {
    db.close();
  }
}

async function feedUrlOf(reader: FeedReader): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/api/feed`, {
    headers: { accept: "application/json", cookie: reader.cookie },
  });
  expect(response.status).toBe(200);
  const { url } = (await response.json()) as { url: string };
  seenTokens.add(tokenOf(url));
  return url;
}

function tokenOf(url: string): string {
  return /\/feeds\/([^/]+)\.xml$/.exec(new URL(url).pathname)?.[1] ?? "";
}

/** What a feed reader does: a plain GET, no cookie. */
function fetchFeed(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

function plainText(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

/** The feed's entries as readable text: the HTML inside the XML, unescaped. */
function feedText(xml: string): string {
  return plainText(decodeEntities(xml));
}

/**
 * A sentence of plain prose from below the paywall marker of the tier's first
 * gated post, read from its Markdown, so that no layout can blur it.
 */
function gatedSentence(tier: string): string {
  const slug = gatedPage(stack.distDir, tier).path.split("/")[2] ?? "";
  const file = [`${slug}.md`, `${slug}/index.md`]
    .map((name) => join(repoRoot, "content", "posts", name))
    .find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`No Markdown for the ${tier} post ${slug}`);

  const body = readFileSync(file, "utf8").split(/^---$/m).slice(2).join("---");
  const gated = body.split(/^<!--\s*paywall\s*-->$/m).at(-1) ?? "";
  const sentence = gated
    .replace(/\s+/g, " ")
    .split(/(?<=[.!?])\s+/)
    .find((candidate) => /^[A-Z][A-Za-z0-9 ,;:'’—–-]{40,}[.!?]$/.test(candidate));
  if (!sentence) throw new Error(`No plain gated sentence in ${file}`);
  return sentence;
}

function publicFeed(): string {
  return readFileSync(join(stack.distDir, "public", "feed.xml"), "utf8");
}

describe("a private feed", () => {
  it("brings a paying reader every post of their tier and below, in full", async () => {
    const url = await feedUrlOf(await readerWithTier("core"));
    const response = await fetchFeed(url);

    expect(response.status).toBe(200);
    const text = feedText(await response.text());
    expect(text).toContain(gatedSentence("core"));
    expect(text).toContain(gatedSentence("spark"));
    expect(text).not.toContain(gatedSentence("lightning"));
  });

  it("needs no cookie: the address alone opens it", async () => {
    const url = await feedUrlOf(await readerWithTier("spark"));
    const response = await fetch(url, { credentials: "omit", headers: {} });

    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(feedText(await response.text())).toContain(gatedSentence("spark"));
  });

  it("is answered as private, unstored, unindexed Atom", async () => {
    const response = await fetchFeed(await feedUrlOf(await readerWithTier("core")));

    expect(response.headers.get("content-type")).toBe(
      "application/atom+xml; charset=utf-8",
    );
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(response.headers.get("x-robots-tag")).toBe("noindex");
    expect(await response.text()).toMatch(/^<\?xml[^>]*>\s*<feed /);
  });

  it("follows the reader's current plan: once it lapses, only teasers", async () => {
    const reader = await readerWithTier("core");
    const url = await feedUrlOf(reader);
    expect(feedText(await (await fetchFeed(url)).text())).toContain(
      gatedSentence("core"),
    );

    setSubscriptionStatus(reader, "canceled");
    const response = await fetchFeed(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const body = await response.text();
    expect(body).toBe(publicFeed());
    expect(feedText(body)).not.toContain(gatedSentence("core"));
    expect(feedText(body)).not.toContain(gatedSentence("spark"));
  });

  it("gives a reader who never subscribed the public teaser feed", async () => {
    const response = await fetchFeed(await feedUrlOf(await readerWithTier(null)));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(publicFeed());
  });

  it("keeps its address each time the reader asks", async () => {
    const reader = await readerWithTier("spark");
    const first = await feedUrlOf(reader);
    expect(first).toMatch(new RegExp(`^${stack.baseUrl}/feeds/[A-Za-z0-9_-]{43}\\.xml$`));
    expect(await feedUrlOf(reader)).toBe(first);
  });

  it("is stored as a hash only", async () => {
    const reader = await readerWithTier("spark");
    const token = tokenOf(await feedUrlOf(reader));
    const db = stack.openDb();
    try {
      const row = db.prepare("SELECT * FROM feed_token WHERE user_id = ?").get(reader.id);
      expect(JSON.stringify(row)).not.toContain(token);
      expect(row).toMatchObject({
        token_hash: createHash("sha256").update(token).digest("hex"),
      });
    } finally {
      db.close();
    }
  });
});

describe("resetting the address", () => {
  it("from the account page: the old address 404s, the new one works", async () => {
    const reader = await readerWithTier("core");
    const old = await feedUrlOf(reader);

    const reset = await stack.post("/api/feed/reset", {}, reader.cookie);
    expect(reset.status).toBe(303);
    expect(reset.headers.get("location")).toBe("/account/");

    const fresh = await feedUrlOf(reader);
    expect(fresh).not.toBe(old);
    expect((await fetchFeed(old)).status).toBe(404);
    const response = await fetchFeed(fresh);
    expect(response.status).toBe(200);
    expect(feedText(await response.text())).toContain(gatedSentence("core"));
  });

  it("from a script: the new address comes back as JSON", async () => {
    const reader = await readerWithTier("spark");
    const old = await feedUrlOf(reader);

    const response = await fetch(`${stack.baseUrl}/api/feed/reset`, {
      method: "POST",
      headers: {
        accept: "application/json",
        origin: stack.baseUrl,
        cookie: reader.cookie,
      },
    });
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    seenTokens.add(tokenOf(url));

    expect(url).not.toBe(old);
    expect(await feedUrlOf(reader)).toBe(url);
    expect((await fetchFeed(url)).status).toBe(200);
    expect((await fetchFeed(old)).status).toBe(404);
  });

  it("is refused from another site", async () => {
    const reader = await readerWithTier("spark");
    const url = await feedUrlOf(reader);
    const response = await fetch(`${stack.baseUrl}/api/feed/reset`, {
      method: "POST",
      headers: { origin: "https://elsewhere.example", cookie: reader.cookie },
    });
    expect(response.status).toBe(403);
    expect((await fetchFeed(url)).status).toBe(200);
  });
});

describe("addresses that lead nowhere", () => {
  it("all get the same bare 404, with no hint why", async () => {
    const token = tokenOf(await feedUrlOf(await readerWithTier("core")));
    const flipped = `${token[0] === "A" ? "B" : "A"}${token.slice(1)}`;
    const paths = [
      `/feeds/${flipped}.xml`,
      `/feeds/${"A".repeat(43)}.xml`,
      "/feeds/garbage.xml",
      "/feeds/.xml",
      `/feeds/${token}`,
      `/feeds/${token}.json`,
      `/feeds/${token}.xml.bak`,
      `/feeds/${token}%00.xml`,
      "/feeds/%2e%2e%2ffeed.xml",
      "/feeds/full.xml",
    ];

    for (const path of paths) {
      const response = await fetchFeed(`${stack.baseUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get("cache-control"), path).toBe("private, no-store");
      expect(response.headers.get("x-robots-tag"), path).toBe("noindex");
      expect(await response.text(), path).toBe("Not found.\n");
    }
  });

  it("include the tier feeds' own paths: the site never serves them", async () => {
    const manifest = readManifest(stack.distDir);
    expect(Object.keys(manifest.feeds ?? {})).toEqual(["spark", "core", "lightning"]);
    expect(Object.keys(manifest.routes).filter((key) => key.includes("feeds"))).toEqual(
      [],
    );

    const core = await readerWithTier("lightning");
    for (const path of [
      "/gated/core/feeds/full.xml",
      "/feeds/",
      "/core/feeds/full.xml",
    ]) {
      const response = await fetch(`${stack.baseUrl}${path}`, {
        headers: { cookie: core.cookie },
        redirect: "manual",
      });
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain(gatedSentence("core"));
    }
  });
});

describe("the feed endpoints", () => {
  it("need a signed-in reader", async () => {
    const json = { accept: "application/json", origin: stack.baseUrl };
    expect((await fetch(`${stack.baseUrl}/api/feed`, { headers: json })).status).toBe(
      401,
    );

    const reset = await fetch(`${stack.baseUrl}/api/feed/reset`, {
      method: "POST",
      headers: json,
    });
    expect(reset.status).toBe(401);

    const form = await stack.post("/api/feed/reset", {});
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/login/?next=/account/");
  });

  it("never write a feed address to the server's log", () => {
    expect(seenTokens.size).toBeGreaterThan(5);
    const output = stack.server.output();
    for (const token of seenTokens) expect(output).not.toContain(token);
  });
});
