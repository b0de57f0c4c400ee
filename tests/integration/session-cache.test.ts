import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The server keeps what a session lookup found while the database is
 * unchanged (server/auth/session-cache.ts). These write through a second
 * connection to the server's SQLite file, as another server process or an
 * operator command does, right after a request that filled the cache, and
 * expect the very next request to see the change.
 */

let stack: Stack;
let page: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  stack = await startStack();
  page = gatedPage(stack.distDir, "core");
});

afterAll(async () => {
  await stack?.stop();
});

async function fetchPage(reader: Reader): Promise<string> {
  const response = await fetch(`${stack.baseUrl}${page.path}`, {
    headers: { cookie: reader.cookie },
  });
  expect(response.status).toBe(200);
  return response.text();
}

async function tierOf(reader: Reader): Promise<string | null> {
  const response = await fetch(`${stack.baseUrl}/api/me`, {
    headers: { cookie: reader.cookie, accept: "application/json" },
  });
  const body = (await response.json()) as { user: { tier: string } | null };
  return body.user?.tier ?? null;
}

/** A write by another connection, as `npm run access` or another worker makes. */
function writeElsewhere(sql: string, ...params: unknown[]): void {
  const db = stack.openDb();
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

function readerIdOf(email: string): string {
  const db = stack.openDb();
  try {
    const row = db.prepare("SELECT id FROM user WHERE email = ?").get(email) as {
      id: string;
    };
    return row.id;
  } finally {
    db.close();
  }
}

describe("a signed-in reader's next request after a write by another process", () => {
  it("opens the full page once a subscription is stored", async () => {
    const reader = await stack.signUp();
    for (let i = 0; i < 3; i++) expect(await fetchPage(reader)).toBe(page.teaser);

    stack.storeSubscription(reader.email, "core");
    expect(await fetchPage(reader)).toBe(page.full);
    expect(await tierOf(reader)).toBe("core");
  });

  it("falls back to the teaser once the subscription is gone", async () => {
    const reader = await stack.signUp();
    const readerId = stack.storeSubscription(reader.email, "core");
    for (let i = 0; i < 3; i++) expect(await fetchPage(reader)).toBe(page.full);

    writeElsewhere(
      "UPDATE subscription SET status = 'canceled' WHERE user_id = ?",
      readerId,
    );
    expect(await fetchPage(reader)).toBe(page.teaser);
    expect(await tierOf(reader)).toBe("free");
  });

  it("is signed out once the session is deleted", async () => {
    const reader = await stack.signUp();
    stack.storeSubscription(reader.email, "core");
    expect(await tierOf(reader)).toBe("core");

    writeElsewhere("DELETE FROM session WHERE user_id = ?", readerIdOf(reader.email));
    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: reader.cookie, accept: "application/json" },
    });
    expect(await response.json()).toEqual({ user: null });
    expect(response.headers.getSetCookie().join("\n")).toMatch(/Max-Age=0/);
    expect(await fetchPage(reader)).toBe(page.teaser);
  });

  it("reads many times while nothing changes, the same answer each time", async () => {
    const reader = await stack.signUp();
    stack.storeSubscription(reader.email, "core");
    const pages = await Promise.all(Array.from({ length: 40 }, () => fetchPage(reader)));
    expect(new Set(pages)).toEqual(new Set([page.full]));
  });
});
