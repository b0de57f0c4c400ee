import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSessionId } from "../../server/auth/session-ids.ts";
import { flashOf, formAnswerOf, newClient } from "../helpers/accounts.ts";
import { postJsonTo } from "../helpers/http.ts";
import { readManifest } from "../helpers/site.ts";
import { type Stack, sessionCookie, startStack } from "../helpers/stack.ts";

/**
 * Accounts and sessions on the built server over HTTP: what a reader's browser
 * and a script calling the JSON API rely on.
 */

let stack: Stack;
let addressCount = 0;

beforeAll(async () => {
  // Behind one trusted proxy, so a test can speak for other clients through
  // X-Forwarded-For; requests without the header count against the socket.
  stack = await startStack({ env: { TRUST_PROXY: "1" } });
});

afterAll(async () => {
  await stack?.stop();
});

const PASSWORD = "correct horse battery";

function newAddress(): string {
  addressCount++;
  return `auth-reader-${addressCount}-${Date.now()}@example.com`;
}

function postJson(path: string, body: unknown, cookie?: string): Promise<Response> {
  return postJsonTo(stack.baseUrl, path, body, { cookie });
}

async function me(cookie?: string): Promise<{ user: Record<string, unknown> | null }> {
  const response = await fetch(`${stack.baseUrl}/api/me`, {
    headers: cookie ? { cookie } : {},
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { user: Record<string, unknown> | null };
}

function sessionSetCookie(response: Response): string {
  const header = response.headers
    .getSetCookie()
    .find((value) => value.startsWith("tierwall_session="));
  if (!header) throw new Error("The response did not set the session cookie");
  return header;
}

function formAnswer(response: Response) {
  return formAnswerOf(response, stack.baseUrl);
}

function userIdFor(email: string): string {
  const db = stack.openDb();
  try {
    const row = db.prepare("SELECT id FROM user WHERE email = ?").get(email) as
      | { id: string }
      | undefined;
    if (!row) throw new Error(`No user ${email}`);
    return row.id;
  } finally {
    db.close();
  }
}

describe("signing up", () => {
  it("signs a form reader in and sends them on to `next`", async () => {
    const email = newAddress();
    const response = await stack.post("/api/auth/signup", {
      email,
      password: PASSWORD,
      next: "/posts/welcome/",
    });

    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/posts/welcome/");
    const { user } = await me(sessionCookie(response));
    expect(user).toMatchObject({ email, emailVerified: false, tier: "free" });
  });

  it("sets a session cookie that scripts cannot read and other sites do not get", async () => {
    const response = await stack.post("/api/auth/signup", {
      email: newAddress(),
      password: PASSWORD,
    });

    const cookie = sessionSetCookie(response);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=\d{6,}/);
    // The test server's SITE_URL is http, so the cookie must work without TLS.
    expect(cookie).not.toMatch(/Secure/);
  });

  it("normalises the address and answers a JSON client with 201", async () => {
    const email = newAddress();
    const response = await postJson("/api/auth/signup", {
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
    });

    expect(response.status).toBe(201);
    const body = (await response.json()) as { user: { email: string }; location: string };
    expect(body.user.email).toBe(email);
    expect(body.location).toBe("/account/");
  });

  it("answers 409 for an address that already has an account, in any case", async () => {
    const email = newAddress();
    await stack.signUp(email);

    const json = await postJson("/api/auth/signup", {
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    expect(json.status).toBe(409);
    expect(((await json.json()) as { message: string }).message).toMatch(
      /already exists/,
    );

    const form = await stack.post("/api/auth/signup", {
      email,
      password: PASSWORD,
      next: "/posts/x/",
    });
    expect(form.status).toBe(303);
    const back = formAnswer(form);
    expect(back.location.pathname).toBe("/signup/");
    expect(back.error).toMatch(/already exists/);
    expect(back.location.searchParams.get("next")).toBe("/posts/x/");
    expect(form.headers.getSetCookie().map((c) => c.split("=")[0])).toEqual([
      "tierwall_flash",
    ]);
  });

  it("answers 400 with a message the reader can act on", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ email: "not-an-address", password: PASSWORD }, /valid email address/],
      [{ email: newAddress(), password: "short" }, /at least 10 characters/],
      [{ email: newAddress(), password: "x".repeat(257) }, /at most 256 characters/],
      [{ password: PASSWORD }, /email address/],
    ];
    for (const [fields, message] of cases) {
      const response = await postJson("/api/auth/signup", fields);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }

    const form = await stack.post("/api/auth/signup", { email: "x", password: PASSWORD });
    expect(form.status).toBe(303);
    expect(formAnswer(form).error).toMatch(/valid email/);
  });

  it("queues a confirmation email, and no welcome yet, that reaches Resend once", async () => {
    const email = newAddress();
    await stack.signUp(email);

    const sent = await waitForOutbox(email, "verify-email");
    expect(sent.status).toBe("sent");
    expect(sent.resend_id).toBeTruthy();
    expect(sent.idempotency_key).toMatch(/^verify-email:/);

    const matching = stack.resendEmulator
      .emails()
      .filter((message) => message.to.includes(email));
    expect(matching).toHaveLength(1);
    expect(matching[0]?.id).toBe(sent.resend_id);
    expect(matching[0]?.text).toContain(email);
    expect(matching[0]?.text).toMatch(/\/verify-email\/#token=[A-Za-z0-9_-]{43}/);
    expect(matching[0]?.html).toContain("<");
    expect(outboxKeys(email)).not.toContain(`welcome:${userIdFor(email)}`);
  });

  it("still arrives, once, when Resend is down at first", async () => {
    await waitFor(() => pendingEmails() === 0, "the outbox to empty");
    await fetch(`${stack.resendUrl}/_emulator/fail-next`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: 1, status: 500 }),
    });
    const email = newAddress();
    await stack.signUp(email);

    const sent = await waitForOutbox(email, "verify-email");
    expect(sent).toMatchObject({ status: "sent", attempts: 2 });
    expect(sent.last_error).toBeNull();
    const arrived = stack.resendEmulator.emails().filter((m) => m.to.includes(email));
    expect(arrived).toHaveLength(1);
  });
});

function pendingEmails(): number {
  const db = stack.openDb();
  try {
    const row = db
      .prepare("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")
      .get();
    return (row as { n: number }).n;
  } finally {
    db.close();
  }
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

interface OutboxState {
  idempotency_key: string;
  status: string;
  attempts: number;
  resend_id: string | null;
  last_error: string | null;
}

async function waitForOutbox(to: string, template: string): Promise<OutboxState> {
  let state: OutboxState | undefined;
  await waitFor(() => {
    const db = stack.openDb();
    try {
      state = db
        .prepare(
          `SELECT idempotency_key, status, attempts, resend_id, last_error FROM outbox
            WHERE to_address = ? AND template = ? ORDER BY id DESC`,
        )
        .get(to, template) as OutboxState | undefined;
    } finally {
      db.close();
    }
    return state !== undefined && state.status !== "pending";
  }, `the ${template} email to ${to} to be delivered`);
  return state as OutboxState;
}

function outboxKeys(to: string): string[] {
  const db = stack.openDb();
  try {
    const rows = db
      .prepare("SELECT idempotency_key FROM outbox WHERE to_address = ?")
      .all(to) as { idempotency_key: string }[];
    return rows.map((row) => row.idempotency_key);
  } finally {
    db.close();
  }
}

describe("signing in", () => {
  it("gives a new session id at every sign-in and ends the one it replaces", async () => {
    const reader = await stack.signUp(newAddress());
    const fields = { email: reader.email, password: reader.password };

    const first = await stack.post("/api/auth/login", fields);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/account/");
    const firstCookie = sessionCookie(first);

    const second = await stack.post("/api/auth/login", fields, firstCookie);
    const secondCookie = sessionCookie(second);

    expect(new Set([reader.cookie, firstCookie, secondCookie]).size).toBe(3);
    expect((await me(secondCookie)).user?.email).toBe(reader.email);
    expect((await me(firstCookie)).user).toBeNull();
  });

  it("gives one 401 message for a wrong password and for an unknown address", async () => {
    const reader = await stack.signUp(newAddress());

    const wrongPassword = await postJson("/api/auth/login", {
      email: reader.email,
      password: "not the password at all",
    });
    const unknownAddress = await postJson("/api/auth/login", {
      email: newAddress(),
      password: reader.password,
    });

    expect(wrongPassword.status).toBe(401);
    expect(unknownAddress.status).toBe(401);
    const messages = [
      ((await wrongPassword.json()) as { message: string }).message,
      ((await unknownAddress.json()) as { message: string }).message,
    ];
    expect(messages[0]).toBe("Wrong email or password.");
    expect(messages[1]).toBe(messages[0]);
    expect(wrongPassword.headers.getSetCookie()).toEqual([]);
  });

  it("sends a failed form back to the login page with the error and `next`", async () => {
    const response = await stack.post("/api/auth/login", {
      email: newAddress(),
      password: PASSWORD,
      next: "/posts/deep-dive/",
    });

    expect(response.status).toBe(303);
    const back = formAnswer(response);
    expect(back.location.pathname).toBe("/login/");
    expect(back.error).toBe("Wrong email or password.");
    expect(back.location.searchParams.get("next")).toBe("/posts/deep-dive/");
  });

  it("never sends the reader to another site after signing in", async () => {
    const reader = await stack.signUp(newAddress());
    const offSite = [
      "//evil.example/",
      "https://evil.example/",
      "/\\evil.example",
      "/\t/evil.example/",
      "/\n/evil.example/",
    ];
    for (const next of offSite) {
      const response = await stack.post("/api/auth/login", {
        email: reader.email,
        password: reader.password,
        next,
      });
      expect(response.headers.get("location")).toBe("/account/");
    }
  });

  it("locks an address for a while after ten wrong passwords, even across a restart", async () => {
    const reader = await stack.signUp(newAddress());
    const wrong = { email: reader.email, password: "wrong password, again" };
    for (let attempt = 0; attempt < 10; attempt++) {
      expect((await postJson("/api/auth/login", wrong)).status).toBe(401);
    }

    const locked = await postJson("/api/auth/login", {
      email: reader.email,
      password: reader.password,
    });
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(((await locked.json()) as { message: string }).message).toMatch(/Too many/);

    // Another reader signing in from the same client is not affected.
    const other = await stack.signUp(newAddress());
    const otherLogin = await stack.post("/api/auth/login", {
      email: other.email,
      password: other.password,
    });
    expect(otherLogin.status).toBe(303);

    await expectLockedAfterRestart(reader.email, reader.password);
  });
});

describe("the message a form post leaves for its page", () => {
  const wrongPassword = () =>
    stack.post("/api/auth/login", {
      email: newAddress(),
      password: PASSWORD,
      next: "/posts/",
    });

  it("travels in a one-minute cookie the page's script can read, never in the address", async () => {
    const response = await wrongPassword();

    const location = response.headers.get("location") ?? "";
    expect(location).toBe("/login/?next=%2Fposts%2F");
    const header = response.headers
      .getSetCookie()
      .find((cookie) => cookie.startsWith("tierwall_flash="));
    expect(header).toMatch(/; Max-Age=60(;|$)/);
    expect(header).toMatch(/; Path=\/(;|$)/);
    expect(header).toMatch(/; SameSite=Lax/);
    // Not secret, and the page clears it once shown; the test site is plain http.
    expect(header).not.toMatch(/HttpOnly/);
    expect(header).not.toMatch(/Secure/);
    expect(flashOf(response)).toEqual({
      page: "/login/",
      kind: "error",
      message: "Wrong email or password.",
    });
  });

  it("carries a notice the same way", async () => {
    const response = await stack.post("/api/auth/signin-link", { email: newAddress() });
    expect(response.headers.get("location")).toBe("/login/");
    expect(flashOf(response)).toMatchObject({ page: "/login/", kind: "notice" });
  });

  it("is JSON for a script, with no cookie", async () => {
    const response = await postJson("/api/auth/login", {
      email: newAddress(),
      password: PASSWORD,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ message: "Wrong email or password." });
    expect(flashOf(response)).toBeNull();
  });
});

describe("a burst of parallel guesses", () => {
  it("gets no more than ten tries at one address", async () => {
    const reader = await stack.signUp(newAddress());
    const guesses = Array.from({ length: 16 }, (_, n) =>
      postJson("/api/auth/login", { email: reader.email, password: `guess number ${n}` }),
    );

    const statuses = (await Promise.all(guesses)).map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
  });
});

/** Restarts the server on the same database and tries the locked address. */
async function expectLockedAfterRestart(email: string, password: string): Promise<void> {
  await stack.restart();
  const response = await postJson("/api/auth/login", { email, password });
  expect(response.status).toBe(429);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("the per-client sign-in limit", () => {
  const signInFrom = (client: string, email: string, password: string) =>
    fetch(`${stack.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: {
        origin: stack.baseUrl,
        accept: "application/json",
        "content-type": "application/json",
        "x-forwarded-for": client,
      },
      body: JSON.stringify({ email, password }),
    });

  it("refuses a client's 51st wrong password across many addresses, even after a restart", async () => {
    const reader = await stack.signUp(newAddress());
    const sprayer = newClient();
    // One password tried on fifty addresses: the address limit never trips.
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await signInFrom(sprayer, newAddress(), "Summer2024!summer");
      expect(response.status).toBe(401);
    }

    const refused = await signInFrom(sprayer, reader.email, reader.password);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(((await refused.json()) as { message: string }).message).toMatch(/Too many/);

    // The same reader, from another client, signs in as usual.
    const elsewhere = await signInFrom(newClient(), reader.email, reader.password);
    expect(elsewhere.status).toBe(200);

    await stack.restart();
    const afterRestart = await signInFrom(sprayer, reader.email, reader.password);
    expect(afterRestart.status).toBe(429);
    expect(Number(afterRestart.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await signInFrom(newClient(), reader.email, reader.password)).status).toBe(
      200,
    );
  });
});

describe("the sign-up limit", () => {
  it("refuses a client's 31st sign-up within the hour with 429", async () => {
    const signUpFrom = (client: string): Promise<Response> =>
      fetch(`${stack.baseUrl}/api/auth/signup`, {
        method: "POST",
        headers: {
          origin: stack.baseUrl,
          accept: "application/json",
          "content-type": "application/json",
          "x-forwarded-for": client,
        },
        body: JSON.stringify({ email: newAddress(), password: PASSWORD }),
      });

    for (let count = 0; count < 30; count++) {
      expect((await signUpFrom("203.0.113.7")).status).toBe(201);
    }
    const refused = await signUpFrom("203.0.113.7");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(15 * 60);

    // The proxy's other clients still sign up.
    expect((await signUpFrom("198.51.100.20")).status).toBe(201);
  });

  it("counts answers about taken addresses too, so probing for accounts stops at thirty", async () => {
    const taken = await stack.signUp(newAddress());
    const prober = newClient();
    const probe = (email: string): Promise<Response> =>
      fetch(`${stack.baseUrl}/api/auth/signup`, {
        method: "POST",
        headers: {
          origin: stack.baseUrl,
          accept: "application/json",
          "content-type": "application/json",
          "x-forwarded-for": prober,
        },
        body: JSON.stringify({ email, password: PASSWORD }),
      });

    for (let count = 0; count < 30; count++) {
      const response = await probe(taken.email);
      expect(response.status).toBe(409);
    }
    for (const email of [taken.email, newAddress()]) {
      const refused = await probe(email);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(userCount(taken.email)).toBe(1);
  });
});

function userCount(email: string): number {
  const db = stack.openDb();
  try {
    const row = db.prepare("SELECT count(*) AS n FROM user WHERE email = ?").get(email);
    return (row as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("sessions", () => {
  function setSessionExpiry(cookie: string, expiresAt: number): void {
    const db = stack.openDb();
    try {
      const id = hashSessionId(cookie.split("=")[1] ?? "");
      db.prepare("UPDATE session SET expires_at = ? WHERE id = ?").run(expiresAt, id);
    } finally {
      db.close();
    }
  }

  it("are extended, with a fresh cookie, once past half their 30 days", async () => {
    const reader = await stack.signUp(newAddress());
    const now = Math.floor(Date.now() / 1000);
    setSessionExpiry(reader.cookie, now + 10 * 86_400);

    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: reader.cookie },
    });
    expect(((await response.json()) as { user: { email: string } }).user.email).toBe(
      reader.email,
    );
    const refreshed = sessionSetCookie(response);
    expect(refreshed.startsWith(`${reader.cookie};`)).toBe(true);
    expect(refreshed).toMatch(/Max-Age=2592000/);

    const untouched = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: reader.cookie },
    });
    expect(untouched.headers.getSetCookie()).toEqual([]);
  });

  it("end when they expire, and the cookie is cleared", async () => {
    const reader = await stack.signUp(newAddress());
    setSessionExpiry(reader.cookie, Math.floor(Date.now() / 1000) - 1);

    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: reader.cookie },
    });
    expect(await response.json()).toEqual({ user: null });
    expect(sessionSetCookie(response)).toMatch(/Max-Age=0/);
  });
});

describe("signing out", () => {
  it("ends the session and clears the cookie", async () => {
    const reader = await stack.signUp(newAddress());

    const response = await stack.post("/api/auth/logout", {}, reader.cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    expect(sessionSetCookie(response)).toMatch(/^tierwall_session=;.*Max-Age=0/);
    expect((await me(reader.cookie)).user).toBeNull();
  });

  it("works without a session", async () => {
    const response = await postJson("/api/auth/logout", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, location: "/" });
    expect(sessionSetCookie(response)).toMatch(/Max-Age=0/);
  });
});

describe("the origin check", () => {
  it("refuses a POST with no Origin or Referer", async () => {
    const response = await fetch(`${stack.baseUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: newAddress(), password: PASSWORD }),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toMatch(/Origin/);
  });

  it("refuses a POST from another site, even with a valid session", async () => {
    const reader = await stack.signUp(newAddress());
    const response = await fetch(`${stack.baseUrl}/api/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: "http://evil.example", cookie: reader.cookie },
    });

    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect((await me(reader.cookie)).user?.email).toBe(reader.email);
  });

  it("accepts the site's own Referer when Origin is missing", async () => {
    const response = await fetch(`${stack.baseUrl}/api/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { referer: `${stack.baseUrl}/account/` },
    });
    expect(response.status).toBe(303);
  });

  it("refuses a Referer from another site", async () => {
    const response = await fetch(`${stack.baseUrl}/api/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { referer: "http://evil.example/page" },
    });
    expect(response.status).toBe(403);
  });

  it("leaves the Stripe webhook to its signature check", async () => {
    const response = await fetch(`${stack.baseUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).not.toBe(403);
    expect(response.status).toBeGreaterThanOrEqual(400);
  });
});

describe("/api/me", () => {
  it("answers { user: null } when signed out, uncached", async () => {
    const response = await fetch(`${stack.baseUrl}/api/me`);
    expect(await response.json()).toEqual({ user: null });
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("clears a session cookie the server does not know", async () => {
    const response = await fetch(`${stack.baseUrl}/api/me`, {
      headers: { cookie: "tierwall_session=forged0000000000000000000000000000" },
    });
    expect(await response.json()).toEqual({ user: null });
    expect(sessionSetCookie(response)).toMatch(/Max-Age=0/);
  });

  it("describes the reader's stored subscription", async () => {
    const reader = await stack.signUp(newAddress());
    const periodEnd = Math.floor(Date.now() / 1000) + 20 * 86_400;
    insertSubscription(userIdFor(reader.email), "core", "active", periodEnd);

    const { user } = await me(reader.cookie);
    expect(user).toEqual({
      id: userIdFor(reader.email),
      email: reader.email,
      emailVerified: false,
      tier: "core",
      tierName: "Core Stacker",
      subscription: {
        status: "active",
        tier: "core",
        interval: "month",
        cancelAtPeriodEnd: false,
        currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
        cancelAt: null,
      },
      complimentary: null,
      notice: null,
    });
  });
});

function insertSubscription(
  userId: string,
  tier: string,
  status: string,
  periodEnd: number,
): void {
  const db = stack.openDb();
  try {
    const now = Math.floor(Date.now() / 1000);
    db.prepare(
      `INSERT INTO subscription (id, user_id, customer_id, status, tier, price_id,
         billing_interval, current_period_end, stripe_created, updated_at)
       VALUES (?, ?, ?, ?, ?, 'price_test', 'month', ?, ?, ?)`,
    ).run(`sub_${userId}`, userId, `cus_${userId}`, status, tier, periodEnd, now, now);
  } finally {
    db.close();
  }
}

describe("/api/health", () => {
  it("answers 200 with the build being served", async () => {
    const response = await fetch(`${stack.baseUrl}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      buildId: readManifest(stack.distDir).buildId,
    });
  });
});
