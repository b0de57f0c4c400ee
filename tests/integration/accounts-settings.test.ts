import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeFaults, startStripeFaults } from "../../emulators/stripe/faults.ts";
import {
  accountsFor,
  cookiePair,
  formAnswerOf,
  newAddress,
  newClient,
  PASSWORD,
  setCookieNamed,
} from "../helpers/accounts.ts";
import { billingFor } from "../helpers/billing.ts";
import { openCheckoutPage } from "../helpers/checkout.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The account page's settings over HTTP: a new address (confirmed from the
 * new mailbox), a new password, downloading one's data, and deleting the
 * account, which cancels the reader's subscription in Stripe first.
 */

let stack: Stack;
let accounts: ReturnType<typeof accountsFor>;
let billing: ReturnType<typeof billingFor>;
/** Between the server and the Stripe emulator: refuses chosen Stripe calls. */
let stripeFaults: StripeFaults;

beforeAll(async () => {
  stripeFaults = await startStripeFaults();
  stack = await startStack({
    env: { TRUST_PROXY: "1", STRIPE_API_BASE: stripeFaults.url },
  });
  stripeFaults.forwardTo(stack.stripeUrl);
  accounts = accountsFor(stack);
  billing = billingFor(stack);
});

afterAll(async () => {
  await accounts?.stop();
  await stripeFaults?.close();
});

const SESSION = "tierwall_session";

/** Every row of every table, as one string to search. */
function databaseText(): string {
  const tables = accounts
    .query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    .map((row) => row.name);
  return tables
    .map((table) => JSON.stringify(accounts.query(`SELECT * FROM "${table}"`)))
    .join("\n");
}

async function messageOf(response: Response): Promise<string> {
  return ((await response.json()) as { message: string }).message;
}

describe("changing the email address", () => {
  it("moves the account only once the link sent to the new address is used", async () => {
    const reader = await accounts.signUp();
    const newEmail = newAddress("moved");

    const asked = await accounts.postJson(
      "/api/account/email",
      { email: newEmail, currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(asked.status).toBe(202);
    expect(await messageOf(asked)).toContain(newEmail);
    expect(await accounts.me(reader.cookie)).toMatchObject({ email: reader.email });

    const confirm = await accounts.waitForEmail(newEmail, "verify-email");
    expect(confirm.email.subject).toMatch(/^Confirm your new email address/);
    expect(confirm.email.text).toContain("the account stays where it is");
    expect(confirm.email.text).not.toContain("sign up");
    const moved = await accounts.followLink(accounts.linkIn(confirm));
    expect(moved.status).toBe(303);
    expect(formAnswerOf(moved, stack.baseUrl).notice).toContain(newEmail);
    expect(await accounts.me(reader.cookie)).toMatchObject({
      email: newEmail,
      emailVerified: true,
    });

    const told = await accounts.waitForEmail(reader.email, "email-changed");
    expect(told.data).toEqual({ oldEmail: reader.email, newEmail });
    expect(told.email.to).toEqual([reader.email]);

    const oldLogin = await accounts.postJson("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    expect(oldLogin.status).toBe(401);
    const newLogin = await accounts.postJson("/api/auth/login", {
      email: newEmail,
      password: PASSWORD,
    });
    expect(newLogin.status).toBe(200);
  });

  it("gives the reader's Stripe customer the new address", async () => {
    const reader = await accounts.signUp();
    await billing.subscribe(reader, await billing.priceOf("spark"));
    const newEmail = newAddress("paying");

    await accounts.postJson(
      "/api/account/email",
      { email: newEmail, currentPassword: PASSWORD },
      reader.cookie,
    );
    await accounts.followLink(await accounts.emailedLink(newEmail, "verify-email"));

    const customer = await stack.stripe.customers.retrieve(
      billing.customerOf({ ...reader, email: newEmail }),
    );
    expect(customer).toMatchObject({ email: newEmail });
  });

  it("answers the same for an address another account has, and emails it nothing", async () => {
    const reader = await accounts.signUp();
    const other = await accounts.signUp();
    await accounts.waitForEmail(other.email, "verify-email");

    const free = await accounts.postJson(
      "/api/account/email",
      { email: newAddress("free"), currentPassword: PASSWORD },
      reader.cookie,
    );
    const taken = await accounts.postJson(
      "/api/account/email",
      { email: other.email, currentPassword: PASSWORD },
      reader.cookie,
    );
    expect([free.status, taken.status]).toEqual([202, 202]);
    expect(Object.keys(await taken.json()).sort()).toEqual(
      Object.keys(await free.json()).sort(),
    );
    expect(accounts.queued(other.email, "verify-email")).toHaveLength(1);
    expect(
      accounts.query(
        "SELECT 1 FROM auth_token WHERE new_email = ? AND user_id = ?",
        other.email,
        accounts.userId(reader.email),
      ),
    ).toEqual([]);
  });

  it("refuses the link with 409 when the address was taken meanwhile", async () => {
    const reader = await accounts.signUp();
    const contested = newAddress("contested");
    await accounts.postJson(
      "/api/account/email",
      { email: contested, currentPassword: PASSWORD },
      reader.cookie,
    );
    const link = await accounts.emailedLink(contested, "verify-email");
    await accounts.signUp(contested);

    const refused = await accounts.followLink(link, { json: true });
    expect(refused.status).toBe(409);
    expect(await messageOf(refused)).toMatch(/another account/);
    expect(await accounts.me(reader.cookie)).toMatchObject({ email: reader.email });
  });

  it("kills links already sent to the old address", async () => {
    const reader = await accounts.signUp();
    await accounts.postJson("/api/auth/signin-link", { email: reader.email });
    const signInLink = await accounts.emailedLink(reader.email, "sign-in-link");

    const newEmail = newAddress("moved");
    await accounts.postJson(
      "/api/account/email",
      { email: newEmail, currentPassword: PASSWORD },
      reader.cookie,
    );
    await accounts.followLink(await accounts.emailedLink(newEmail, "verify-email"));

    expect((await accounts.followLink(signInLink, { json: true })).status).toBe(400);
  });

  it("limits requests for one new address to five an hour, with Retry-After, taken or not", async () => {
    const reader = await accounts.signUp();
    const taken = await accounts.signUp();
    const ask = (email: string) =>
      accounts.postJson(
        "/api/account/email",
        { email, currentPassword: PASSWORD },
        reader.cookie,
        { "x-forwarded-for": newClient() },
      );

    const answers: { status: number; retryAfter: number; message: string }[] = [];
    for (const email of [newAddress("limited"), taken.email]) {
      for (let count = 0; count < 5; count++) expect((await ask(email)).status).toBe(202);
      const refused = await ask(email);
      answers.push({
        status: refused.status,
        retryAfter: Number(refused.headers.get("retry-after")),
        message: await messageOf(refused),
      });
    }

    const [free, other] = answers;
    expect(free?.status).toBe(429);
    expect(free?.retryAfter).toBeGreaterThan(60 * 60 - 60);
    expect(free?.retryAfter).toBeLessThanOrEqual(60 * 60);
    expect(other).toEqual({ ...free, retryAfter: other?.retryAfter });
    expect(Math.abs((other?.retryAfter ?? 0) - (free?.retryAfter ?? 0))).toBeLessThan(60);
    expect(accounts.queued(taken.email, "verify-email")).toHaveLength(1);
  });

  it("needs the current password and a different, valid address", async () => {
    const reader = await accounts.signUp();
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ email: newAddress(), currentPassword: "not my password" }, 403, /not right/],
      [{ email: newAddress() }, 400, /password/],
      [{ email: "nope", currentPassword: PASSWORD }, 400, /valid email/],
      [{ email: reader.email.toUpperCase(), currentPassword: PASSWORD }, 400, /already/],
    ];
    for (const [fields, status, message] of cases) {
      const response = await accounts.postJson(
        "/api/account/email",
        fields,
        reader.cookie,
      );
      expect(response.status).toBe(status);
      expect(await messageOf(response)).toMatch(message);
    }

    const signedOut = await accounts.postJson("/api/account/email", {
      email: newAddress(),
      currentPassword: PASSWORD,
    });
    expect(signedOut.status).toBe(401);
  });
});

describe("the account page's password checks", () => {
  /** Wrong passwords for the address, each from a client of its own. */
  async function lockAddress(email: string): Promise<Response> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const wrong = await accounts.postJson(
        "/api/auth/login",
        { email, password: `a stranger's guess ${attempt}` },
        undefined,
        { "x-forwarded-for": newClient() },
      );
      expect(wrong.status).toBe(401);
    }
    return accounts.postJson(
      "/api/auth/login",
      { email, password: PASSWORD },
      undefined,
      {
        "x-forwarded-for": newClient(),
      },
    );
  }

  it("let a signed-in reader change their address and delete their account while a stranger has locked the address", async () => {
    const reader = await accounts.signUp();
    const locked = await lockAddress(reader.email);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await messageOf(locked)).toMatch(/sign-in link or a password reset/);

    const moved = await accounts.postJson(
      "/api/account/email",
      { email: newAddress("locked-out"), currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(moved.status).toBe(202);
    const deleted = await accounts.postJson(
      "/api/account/delete",
      { currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(deleted.status).toBe(200);
    expect(accounts.query("SELECT 1 FROM user WHERE email = ?", reader.email)).toEqual(
      [],
    );
  });

  it("refuse an eleventh wrong current password in 15 minutes with 429 and Retry-After, whatever the form", async () => {
    const reader = await accounts.signUp();
    const forms: [string, Record<string, string>][] = [
      ["/api/account/email", { email: newAddress("guess") }],
      ["/api/account/password", { newPassword: "a brand new password" }],
      ["/api/account/delete", {}],
    ];
    for (let attempt = 0; attempt < 10; attempt++) {
      const [path, fields] = forms[attempt % forms.length] as (typeof forms)[number];
      const wrong = await accounts.postJson(
        path,
        { ...fields, currentPassword: `guess number ${attempt}` },
        reader.cookie,
        { "x-forwarded-for": newClient() },
      );
      expect(wrong.status, path).toBe(403);
    }

    for (const [path, fields] of forms) {
      const refused = await accounts.postJson(
        path,
        { ...fields, currentPassword: PASSWORD },
        reader.cookie,
        { "x-forwarded-for": newClient() },
      );
      expect(refused.status, path).toBe(429);
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    }
    expect(
      accounts.query("SELECT 1 FROM user WHERE email = ?", reader.email),
    ).toHaveLength(1);

    // Signing in is counted apart, and the right password still works there.
    const signIn = await accounts.postJson(
      "/api/auth/login",
      { email: reader.email, password: PASSWORD },
      undefined,
      { "x-forwarded-for": newClient() },
    );
    expect(signIn.status).toBe(200);
  });
});

describe("changing the password", () => {
  it("ends every other session and keeps this one under a new id", async () => {
    const reader = await accounts.signUp();
    const elsewhere = await stack.post("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    const otherDevice = cookiePair(setCookieNamed(elsewhere, SESSION) ?? "");

    const newPassword = "my second long password";
    const changed = await stack.post(
      "/api/account/password",
      { currentPassword: PASSWORD, newPassword },
      reader.cookie,
    );
    expect(changed.status).toBe(303);
    expect(formAnswerOf(changed, stack.baseUrl).notice).toMatch(/signed out/);

    const kept = cookiePair(setCookieNamed(changed, SESSION) ?? "");
    expect([reader.cookie, otherDevice]).not.toContain(kept);
    expect(await accounts.me(kept)).toMatchObject({ email: reader.email });
    expect(await accounts.me(reader.cookie)).toBeNull();
    expect(await accounts.me(otherDevice)).toBeNull();

    const login = await accounts.postJson("/api/auth/login", {
      email: reader.email,
      password: newPassword,
    });
    expect(login.status).toBe(200);
  });

  it("makes a change-email link asked for before it dead, and the address stays", async () => {
    const reader = await accounts.signUp();
    const elsewhere = newAddress("elsewhere");
    const asked = await accounts.postJson(
      "/api/account/email",
      { email: elsewhere, currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(asked.status).toBe(202);
    const link = await accounts.emailedLink(elsewhere, "verify-email");

    const changed = await accounts.postJson(
      "/api/account/password",
      { currentPassword: PASSWORD, newPassword: "a password of my own" },
      reader.cookie,
    );
    expect(changed.status).toBe(200);
    const kept = cookiePair(setCookieNamed(changed, SESSION) ?? "");

    const late = await accounts.followLink(link, { json: true });
    const madeUp = await accounts.followLink(
      { ...link, token: "A".repeat(43) },
      { json: true },
    );
    expect(late.status).toBe(400);
    expect({ status: late.status, message: await messageOf(late) }).toEqual({
      status: madeUp.status,
      message: await messageOf(madeUp),
    });
    expect(await accounts.me(kept)).toMatchObject({ email: reader.email });
    expect(accounts.query("SELECT 1 FROM user WHERE email = ?", elsewhere)).toEqual([]);
  });

  it("refuses a wrong current password or a weak new one, and changes nothing", async () => {
    const reader = await accounts.signUp();
    const wrong = await accounts.postJson(
      "/api/account/password",
      { currentPassword: "not it at all", newPassword: "a perfectly fine one" },
      reader.cookie,
    );
    expect(wrong.status).toBe(403);
    const weak = await accounts.postJson(
      "/api/account/password",
      { currentPassword: PASSWORD, newPassword: "short" },
      reader.cookie,
    );
    expect(weak.status).toBe(400);
    expect(await messageOf(weak)).toMatch(/at least 10 characters/);

    expect(await accounts.me(reader.cookie)).not.toBeNull();
    const login = await accounts.postJson("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
  });
  it("refuses the current password as the new one with 400, and signs no device out", async () => {
    const reader = await accounts.signUp();
    const elsewhere = await stack.post("/api/auth/login", {
      email: reader.email,
      password: PASSWORD,
    });
    const otherDevice = cookiePair(setCookieNamed(elsewhere, SESSION) ?? "");
    const hashBefore = accounts.query(
      "SELECT password_hash FROM user WHERE email = ?",
      reader.email,
    );

    const same = await accounts.postJson(
      "/api/account/password",
      { currentPassword: PASSWORD, newPassword: PASSWORD },
      reader.cookie,
    );
    expect(same.status).toBe(400);
    expect(await messageOf(same)).toMatch(
      /Choose a password different from the current one/,
    );
    expect(same.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`))).toBe(
      false,
    );

    expect(await accounts.me(reader.cookie)).toMatchObject({ email: reader.email });
    expect(await accounts.me(otherDevice)).toMatchObject({ email: reader.email });
    expect(
      accounts.query("SELECT password_hash FROM user WHERE email = ?", reader.email),
    ).toEqual(hashBefore);
  });
});

describe("downloading one's data", () => {
  it("gives a JSON file of the profile, subscriptions, grant, sessions and feed, without secrets", async () => {
    const reader = await accounts.signUp();
    const userId = stack.storeSubscription(reader.email, "core");
    accounts.run(
      `INSERT INTO complimentary_access (user_id, tier, until, note, granted_at)
       VALUES (?, 'lightning', NULL, 'reviewer', ?)`,
      userId,
      Math.floor(Date.now() / 1000),
    );
    const feed = await fetch(`${stack.baseUrl}/api/feed`, {
      headers: { cookie: reader.cookie, accept: "application/json" },
    });
    expect(feed.status).toBe(200);

    const response = await fetch(`${stack.baseUrl}/api/account/export`, {
      headers: { cookie: reader.cookie },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="tierwall-account-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(response.headers.get("cache-control")).toBe("private, no-store");

    const text = await response.text();
    const data = JSON.parse(text);
    expect(data.profile).toMatchObject({
      id: userId,
      email: reader.email,
      emailVerified: false,
    });
    expect(data.subscriptions).toEqual([
      expect.objectContaining({ tier: "core", status: "active", interval: "month" }),
    ]);
    expect(data.complimentaryAccess).toMatchObject({
      tier: "lightning",
      note: "reviewer",
    });
    expect(data.sessions).toEqual({ count: 1 });
    expect(data.privateFeed.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const [secrets] = accounts.query<{ password_hash: string; token_hash: string }>(
      `SELECT u.password_hash, f.token_hash FROM user u JOIN feed_token f ON f.user_id = u.id
        WHERE u.id = ?`,
      userId,
    );
    expect(text).not.toContain(secrets?.password_hash);
    expect(text).not.toContain(secrets?.token_hash);
    expect(text).not.toMatch(/hash|password|seed/i);
  });

  it("asks a signed-out visitor to sign in", async () => {
    const json = await fetch(`${stack.baseUrl}/api/account/export`, {
      headers: { accept: "application/json" },
    });
    expect(json.status).toBe(401);
    const page = await fetch(`${stack.baseUrl}/api/account/export`, {
      redirect: "manual",
    });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login/?next=%2Faccount%2F");
  });
});

describe("deleting the account", () => {
  it("needs the current password", async () => {
    const reader = await accounts.signUp();
    const wrong = await accounts.postJson(
      "/api/account/delete",
      { currentPassword: "certainly not it" },
      reader.cookie,
    );
    expect(wrong.status).toBe(403);
    expect(
      accounts.query("SELECT 1 FROM user WHERE email = ?", reader.email),
    ).toHaveLength(1);
  });

  it("deletes nothing while Stripe is down, then cancels the subscription and deletes", async () => {
    const reader = await accounts.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    // The tier arrives by webhook: let it land before Stripe goes down.
    await stack.flushWebhooks();
    const subscription = await billing.stripeSubscription(reader);
    expect(subscription.status).toBe("active");
    const userId = accounts.userId(reader.email);

    await billing.emulator.outage(true);
    let refused: Response;
    try {
      refused = await accounts.postJson(
        "/api/account/delete",
        { currentPassword: PASSWORD },
        reader.cookie,
      );
    } finally {
      await billing.emulator.outage(false);
    }
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(await messageOf(refused)).toMatch(/not deleted/);
    expect(accounts.query("SELECT 1 FROM user WHERE id = ?", userId)).toHaveLength(1);
    expect(await accounts.me(reader.cookie)).toMatchObject({ tier: "core" });
    expect((await stack.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "active",
    );

    const deleted = await stack.post(
      "/api/account/delete",
      { currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(deleted.status).toBe(303);
    expect(formAnswerOf(deleted, stack.baseUrl).notice).toMatch(/deleted/);
    expect(setCookieNamed(deleted, SESSION)).toMatch(/^tierwall_session=;.*Max-Age=0/);

    expect((await stack.stripe.subscriptions.retrieve(subscription.id)).status).toBe(
      "canceled",
    );
    for (const table of ["user", "session", "subscription", "auth_token", "feed_token"]) {
      const column = table === "user" ? "id" : "user_id";
      expect(
        accounts.query(`SELECT 1 FROM ${table} WHERE ${column} = ?`, userId),
      ).toEqual([]);
    }
    expect(await accounts.me(reader.cookie)).toBeNull();

    // Stripe's cancellation webhook finds no reader and changes nothing.
    await stack.flushWebhooks();
    expect(
      accounts.query("SELECT 1 FROM subscription WHERE user_id = ?", userId),
    ).toEqual([]);
  });

  /** Fails cancellations in Stripe with an API error: the first `skip` pass. */
  async function refuseCancellations(fault: { skip?: number; count?: number }) {
    const response = await fetch(`${stripeFaults.url}/_faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        method: "DELETE",
        path: "/v1/subscriptions/",
        status: 400,
        message: "This subscription cannot be canceled right now (emulated fault).",
        ...fault,
      }),
    });
    expect(response.status).toBe(200);
  }

  async function clearStripeFaults(): Promise<void> {
    await fetch(`${stripeFaults.url}/_faults`, { method: "DELETE" });
  }

  const deleteAccountOf = (cookie: string): Promise<Response> =>
    accounts.postJson("/api/account/delete", { currentPassword: PASSWORD }, cookie);

  async function statusesInStripe(customerId: string): Promise<string[]> {
    const list = await stack.stripe.subscriptions.list({
      customer: customerId,
      status: "all",
    });
    return list.data.map((subscription) => subscription.status).sort();
  }

  it("deletes nothing when Stripe refuses the cancellation, and a retry completes", async () => {
    const reader = await accounts.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    await stack.flushWebhooks();
    const customerId = billing.customerOf(reader);
    const userId = accounts.userId(reader.email);

    await refuseCancellations({ count: 1 });
    let refused: Response;
    try {
      refused = await deleteAccountOf(reader.cookie);
    } finally {
      await clearStripeFaults();
    }
    expect(refused.status).toBe(502);
    expect(await messageOf(refused)).toBe(
      "Your subscription could not be canceled, so your account was not deleted. Please try again, or contact us.",
    );
    expect(accounts.query("SELECT 1 FROM user WHERE id = ?", userId)).toHaveLength(1);
    expect(await accounts.me(reader.cookie)).toMatchObject({ tier: "core" });
    expect(await statusesInStripe(customerId)).toEqual(["active"]);

    const retried = await deleteAccountOf(reader.cookie);
    expect(retried.status).toBe(200);
    expect(await statusesInStripe(customerId)).toEqual(["canceled"]);
    expect(accounts.query("SELECT 1 FROM user WHERE id = ?", userId)).toEqual([]);
  });

  it("keeps the account when the second of two cancellations fails, says so, and a retry finishes", async () => {
    const reader = await accounts.signUp();
    await billing.subscribe(reader, await billing.priceOf("core"));
    const customerId = billing.customerOf(reader);
    await stack.stripe.subscriptions.create({
      customer: customerId,
      items: [{ price: await billing.priceOf("spark") }],
    });
    expect(await statusesInStripe(customerId)).toEqual(["active", "active"]);
    const userId = accounts.userId(reader.email);

    await refuseCancellations({ skip: 1, count: 1 });
    let refused: Response;
    try {
      refused = await deleteAccountOf(reader.cookie);
    } finally {
      await clearStripeFaults();
    }
    expect(refused.status).toBe(502);
    const message = await messageOf(refused);
    expect(message).toMatch(/^We canceled 1 of your 2 subscriptions, but the other/);
    expect(message).toMatch(/your account was not deleted/);
    expect(message).toMatch(/try again/);
    expect(await statusesInStripe(customerId)).toEqual(["active", "canceled"]);
    expect(accounts.query("SELECT 1 FROM user WHERE id = ?", userId)).toHaveLength(1);
    expect(await accounts.me(reader.cookie)).toMatchObject({ email: reader.email });

    // A form post lands back on the account page with the same words.
    await refuseCancellations({ count: 1 });
    let formRefused: Response;
    try {
      formRefused = await stack.post(
        "/api/account/delete",
        { currentPassword: PASSWORD },
        reader.cookie,
      );
    } finally {
      await clearStripeFaults();
    }
    expect(formRefused.status).toBe(303);
    const back = formAnswerOf(formRefused, stack.baseUrl);
    expect(back.location.pathname).toBe("/account/");
    expect(back.error).toMatch(/was not deleted/);

    const retried = await deleteAccountOf(reader.cookie);
    expect(retried.status).toBe(200);
    expect(await statusesInStripe(customerId)).toEqual(["canceled", "canceled"]);
    expect(accounts.query("SELECT 1 FROM user WHERE id = ?", userId)).toEqual([]);
    expect(await accounts.me(reader.cookie)).toBeNull();
  });

  it("closes a Checkout page left open, so paying on it later charges nobody", async () => {
    const reader = await accounts.signUp();
    const started = await stack.post(
      "/api/billing/checkout",
      { price: await billing.priceOf("core") },
      reader.cookie,
    );
    expect(started.status).toBe(303);
    const checkoutUrl = started.headers.get("location") ?? "";
    expect(checkoutUrl.startsWith(stack.stripeUrl)).toBe(true);
    const openTab = await openCheckoutPage(checkoutUrl);
    const customerId = billing.customerOf(reader);

    const deleted = await deleteAccountOf(reader.cookie);
    expect(deleted.status).toBe(200);

    const paid = await openTab.submit();
    expect(paid.status).toBe(409);
    expect(await paid.text()).toContain("This checkout has expired");
    const sessions = await stack.stripe.checkout.sessions.list({ customer: customerId });
    expect(sessions.data.map((session) => session.status)).toEqual(["expired"]);
    expect(await statusesInStripe(customerId)).toEqual([]);
  });

  it("deletes a reader who never paid, with a JSON answer", async () => {
    const reader = await accounts.signUp();
    const response = await accounts.postJson(
      "/api/account/delete",
      { currentPassword: PASSWORD },
      reader.cookie,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, location: "/account/" });
    expect(accounts.query("SELECT 1 FROM user WHERE email = ?", reader.email)).toEqual(
      [],
    );
  });

  it("drops every email it holds for a deleted reader, and leaves no link behind", async () => {
    const reader = await accounts.signUp();
    const verify = await accounts.emailedLink(reader.email, "verify-email");
    const fault = (init: RequestInit) =>
      fetch(`${stack.resendUrl}/_emulator/faults`, {
        headers: { "content-type": "application/json" },
        ...init,
      });
    await fault({ method: "POST", body: JSON.stringify({ kind: "error", status: 503 }) });
    try {
      await accounts.postJson("/api/auth/signin-link", { email: reader.email });
      const [waiting] = accounts.queued(reader.email, "sign-in-link");
      expect(waiting?.status).toBe("pending");
      // A pending email holds its link: the worker has yet to send it.
      const pendingUrl = (JSON.parse(waiting?.data ?? "{}") as { url: string }).url;
      const pendingToken = new URLSearchParams(new URL(pendingUrl).hash.slice(1)).get(
        "token",
      );
      expect(pendingToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const response = await deleteAccountOf(reader.cookie);
      expect(response.status).toBe(200);
      expect(
        accounts.query("SELECT template FROM outbox WHERE to_address = ?", reader.email),
      ).toEqual([]);
      expect(databaseText()).not.toContain(pendingToken);
      expect(databaseText()).not.toContain(verify.token);
    } finally {
      await fault({ method: "DELETE" });
    }
  });
});
