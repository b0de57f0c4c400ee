import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSessionId } from "../../server/auth/session-ids.ts";
import {
  type Accounts,
  accountsFor,
  cookiePair,
  flashOf,
  maxAgeOf,
  newAddress,
  PASSWORD,
  setCookieNamed,
  startAccountsStack,
} from "../helpers/accounts.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Session cookies on the built server: ids stored only as hashes, fixation,
 * expiry that slides on every kind of page, Max-Age that matches the stored
 * session, and the cookie of a site served over https behind a proxy that
 * speaks plain http to Tierwall.
 */

const PLAIN = "tierwall_session";
const HOST_ONLY = "__Host-tierwall_session";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The `session` table's id for the session a `name=value` cookie carries. */
function storedId(cookie: string): string {
  return hashSessionId(cookie.split("=")[1] ?? "");
}

describe("on a plain-http site", () => {
  let stack: Stack;
  let accounts: Accounts;

  beforeAll(async () => {
    ({ stack, accounts } = await startAccountsStack());
  });

  afterAll(async () => {
    await accounts?.stop();
  });

  const storedExpiry = (cookie: string): number | undefined =>
    accounts.query<{ expires_at: number }>(
      "SELECT expires_at FROM session WHERE id = ?",
      storedId(cookie),
    )[0]?.expires_at;

  /** The database file and its write-ahead log, as bytes on disk. */
  const databaseBytes = (): string =>
    ["", "-wal"]
      .map((suffix) => {
        try {
          return readFileSync(`${stack.databasePath}${suffix}`).toString("latin1");
        } catch {
          return "";
        }
      })
      .join("");

  it("keeps only a hash of the session id: the cookie's value is nowhere in the database", async () => {
    const reader = await accounts.signUp();
    const signedIn = await stack.post("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    const cookie = cookiePair(setCookieNamed(signedIn, PLAIN) ?? "");
    const id = cookie.split("=")[1] ?? "";
    expect(id).toMatch(/^[a-z0-9]{40}$/);
    expect(await accounts.me(cookie)).toMatchObject({ email: reader.email });

    const rows = accounts.query<{ id: string }>(
      "SELECT id FROM session WHERE user_id = ?",
      accounts.userId(reader.email),
    );
    expect(rows.map((row) => row.id)).toContain(storedId(cookie));
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).not.toBe(id);
    }
    const bytes = databaseBytes();
    expect(bytes).toContain(storedId(cookie));
    expect(bytes).not.toContain(id);
    expect(bytes).not.toContain(reader.cookie.split("=")[1]);
  });

  it("keeps a reader signed in before session ids were hashed signed in", async () => {
    const reader = await accounts.signUp();
    const id = reader.cookie.split("=")[1] ?? "";
    // The database as the previous release left it: the raw id in the table,
    // the hashing migration not yet applied.
    accounts.run("UPDATE session SET id = ? WHERE id = ?", id, storedId(reader.cookie));
    accounts.run(
      "DELETE FROM schema_migration WHERE name = ?",
      "session ids stored hashed",
    );

    await stack.restart();

    expect(await accounts.me(reader.cookie)).toMatchObject({ email: reader.email });
    expect(accounts.query("SELECT id FROM session WHERE id = ?", id)).toEqual([]);
    expect(storedExpiry(reader.cookie)).toBeGreaterThan(nowSeconds());
    const [applied] = accounts.query<{ n: number }>(
      "SELECT count(*) AS n FROM schema_migration WHERE name = ?",
      "session ids stored hashed",
    );
    expect(applied?.n).toBe(1);
  });

  it("makes a planted cookie worthless: signing in starts a new session", async () => {
    const victim = await accounts.signUp();
    const attacker = await accounts.signUp();

    // A value the attacker made up, and a real session of the attacker's own.
    for (const planted of [`${PLAIN}=plantedplantedplantedplanted`, attacker.cookie]) {
      const response = await stack.post(
        "/api/auth/login",
        { email: victim.email, password: PASSWORD },
        planted,
      );
      expect(response.status).toBe(303);
      const issued = cookiePair(setCookieNamed(response, PLAIN) ?? "");
      expect(issued).not.toBe(planted);
      expect(await accounts.me(issued)).toMatchObject({ email: victim.email });
      expect(await accounts.me(planted)).toBeNull();
    }
  });

  it("gives a cookie whose Max-Age matches the stored expiry", async () => {
    const reader = await accounts.signUp();
    const response = await stack.post("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    const setCookie = setCookieNamed(response, PLAIN) ?? "";

    const expiresAt = storedExpiry(cookiePair(setCookie));
    expect(expiresAt).toBeDefined();
    expect(
      Math.abs(nowSeconds() + maxAgeOf(setCookie) - (expiresAt ?? 0)),
    ).toBeLessThanOrEqual(2);
  });

  it("slides the expiry on a static page too, with a matching cookie that no cache keeps", async () => {
    const reader = await accounts.signUp();
    for (const path of ["/", "/posts/", "/assets/site.css"]) {
      accounts.run(
        "UPDATE session SET expires_at = ? WHERE id = ?",
        nowSeconds() + 10 * 86_400,
        storedId(reader.cookie),
      );

      const page = await fetch(`${stack.baseUrl}${path}`, {
        headers: { cookie: reader.cookie },
      });
      expect(page.status).toBe(200);
      const refreshed = setCookieNamed(page, PLAIN);
      expect(refreshed, path).toBeDefined();
      expect(cookiePair(refreshed ?? "")).toBe(reader.cookie);
      expect(page.headers.get("cache-control")).toBe("private, no-store");

      const expiresAt = storedExpiry(reader.cookie) ?? 0;
      expect(expiresAt).toBeGreaterThan(nowSeconds() + 29 * 86_400);
      expect(
        Math.abs(nowSeconds() + maxAgeOf(refreshed ?? "") - expiresAt),
      ).toBeLessThanOrEqual(2);
    }

    // Within the first half of its life the session is left alone and the page stays cacheable.
    const untouched = await fetch(`${stack.baseUrl}/`, {
      headers: { cookie: reader.cookie },
    });
    expect(untouched.headers.getSetCookie()).toEqual([]);
    expect(untouched.headers.get("cache-control")).toBe("no-cache");
  });

  it("clears an expired session's cookie on a static page", async () => {
    const reader = await accounts.signUp();
    accounts.run(
      "UPDATE session SET expires_at = ? WHERE id = ?",
      nowSeconds() - 1,
      storedId(reader.cookie),
    );

    const page = await fetch(`${stack.baseUrl}/posts/`, {
      headers: { cookie: reader.cookie },
    });
    expect(page.status).toBe(200);
    expect(setCookieNamed(page, PLAIN)).toMatch(/Max-Age=0/);
  });

  it("ignores X-Forwarded-Host: a forged origin stays forged", async () => {
    const reader = await accounts.signUp();
    const response = await fetch(`${stack.baseUrl}/api/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: {
        origin: "http://evil.example",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "http",
        cookie: reader.cookie,
      },
    });
    expect(response.status).toBe(403);
    expect(await accounts.me(reader.cookie)).not.toBeNull();
  });
});

describe("on an https site behind a proxy", () => {
  let stack: Stack;
  let accounts: Accounts;
  const siteUrl = "https://stacker.example";

  beforeAll(async () => {
    stack = await startStack();
    accounts = accountsFor(stack);
    // The proxy terminates TLS: requests reach the server as plain http on
    // loopback, which ALLOWED_ORIGINS lets the tests post from.
    await accounts.restartServer({ SITE_URL: siteUrl, ALLOWED_ORIGINS: stack.baseUrl });
  });

  afterAll(async () => {
    await accounts?.stop();
  });

  it("marks the cookie Secure and host-only, although the request came over http", async () => {
    const reader = await accounts.signUp();
    const response = await stack.post("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });

    const setCookie = setCookieNamed(response, HOST_ONLY) ?? "";
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(await accounts.me(cookiePair(setCookie))).toMatchObject({
      email: reader.email,
    });
  });

  it("leaves a form's message in a Secure, host-only flash cookie", async () => {
    const response = await stack.post("/api/auth/login", {
      email: newAddress(),
      password: "not the password at all",
    });

    const flash = setCookieNamed(response, "__Host-tierwall_flash") ?? "";
    expect(flash).toMatch(/; Secure/);
    expect(flash).toMatch(/; Path=\//);
    expect(flash).toMatch(/; Max-Age=60/);
    expect(flash).not.toMatch(/Domain=/i);
    expect(flashOf(response)).toMatchObject({ page: "/login/", kind: "error" });
  });

  it("clears a plain-named cookie while setting the session: two Set-Cookie headers arrive", async () => {
    const reader = await accounts.signUp();
    const response = await stack.post(
      "/api/auth/login",
      { email: reader.email, password: PASSWORD },
      `${PLAIN}=left-from-before-https`,
    );

    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(setCookieNamed(response, PLAIN)).toMatch(/^tierwall_session=; .*Max-Age=0/);
    expect(setCookieNamed(response, HOST_ONLY)).toMatch(/Max-Age=\d{6,}/);
  });

  it("never reads a session from the plain-named cookie", async () => {
    const reader = await accounts.signUp();
    const id = reader.cookie.split("=")[1];
    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: `${PLAIN}=${id}` },
    });
    expect(await response.json()).toEqual({ user: null });
  });

  it("takes the site's own origin and the allowed ones, and no other", async () => {
    const reader = await accounts.signUp();
    const post = (origin: string, extra: Record<string, string> = {}) =>
      fetch(`${stack.baseUrl}/api/auth/verify-email/resend`, {
        method: "POST",
        redirect: "manual",
        headers: { origin, accept: "application/json", cookie: reader.cookie, ...extra },
      });

    expect((await post(siteUrl)).status).toBe(200);
    expect((await post(stack.baseUrl)).status).toBe(200);
    expect((await post("http://stacker.example")).status).toBe(403);
    const forwarded = await post("https://evil.example", {
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
    });
    expect(forwarded.status).toBe(403);
  });

  it("puts the https site's address in emailed links", async () => {
    const reader = await accounts.signUp();
    const link = await accounts.emailedLink(reader.email, "verify-email");
    expect(link.url.origin).toBe(siteUrl);
    expect((await accounts.followLink(link, { json: true })).status).toBe(200);
  });
});
