import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Accounts,
  flashOf,
  newAddress,
  newClient,
  PASSWORD,
  startAccountsStack,
} from "../helpers/accounts.ts";
import type { Stack } from "../helpers/stack.ts";

/**
 * How the built server answers over HTTP whatever the route: an answer that
 * sets a cookie is never cacheable, and a body the API cannot read is refused
 * with a status and message that say what to send instead.
 */

let stack: Stack;
let accounts: Accounts;

beforeAll(async () => {
  ({ stack, accounts } = await startAccountsStack());
});

afterAll(async () => {
  await accounts?.stop();
});

/** A browser's form post, from a client of its own. */
function postForm(
  path: string,
  fields: Record<string, string>,
  cookie?: string,
): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      origin: stack.baseUrl,
      "content-type": "application/x-www-form-urlencoded",
      "x-forwarded-for": newClient(),
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(fields),
  });
}

/** A script's JSON post, from a client of its own. */
function postJson(
  path: string,
  fields: Record<string, string>,
  cookie?: string,
): Promise<Response> {
  return accounts.postJson(path, fields, cookie, { "x-forwarded-for": newClient() });
}

type Post = typeof postForm;

const variants: [string, Post, number][] = [
  ["a form", postForm, 303],
  ["JSON", postJson, 200],
];

function expectPrivateCookieAnswer(response: Response, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers.getSetCookie().length).toBeGreaterThan(0);
  expect(response.headers.get("cache-control")).toBe("private, no-store");
}

describe("answers that set a cookie", () => {
  it.each([
    ["a form", postForm, 303],
    ["JSON", postJson, 201],
  ] as [string, Post, number][])(
    "sign-up by %s is private, no-store",
    async (_, post, status) => {
      const response = await post("/api/auth/signup", {
        email: newAddress("signup"),
        password: PASSWORD,
      });
      expectPrivateCookieAnswer(response, status);
    },
  );

  it.each(variants)("sign-in by %s is private, no-store", async (_, post, status) => {
    const { email } = await accounts.signUp();
    const response = await post("/api/auth/login", { email, password: PASSWORD });
    expectPrivateCookieAnswer(response, status);
  });

  it.each(variants)("sign-out by %s is private, no-store", async (_, post, status) => {
    const { cookie } = await accounts.signUp();
    const response = await post("/api/auth/logout", {}, cookie);
    expectPrivateCookieAnswer(response, status);
  });

  it.each(variants)(
    "a confirmed sign-in link by %s is private, no-store",
    async (label, _, status) => {
      const { email } = await accounts.signUp();
      await postJson("/api/auth/signin-link", { email });
      const link = await accounts.emailedLink(email, "sign-in-link");

      const response = await accounts.followLink(link, { json: label === "JSON" });
      expectPrivateCookieAnswer(response, status);
    },
  );

  it.each(variants)(
    "a confirmed password reset by %s is private, no-store",
    async (label, _, status) => {
      const { email } = await accounts.signUp();
      await postJson("/api/auth/password-reset", { email });
      const link = await accounts.emailedLink(email, "password-reset");

      const response = await accounts.followLink(link, {
        json: label === "JSON",
        fields: { password: "a brand new passphrase" },
      });
      expectPrivateCookieAnswer(response, status);
    },
  );

  it.each([
    [
      "a refused sign-in",
      "/api/auth/login",
      { email: "nobody@example.com", password: "x" },
    ],
    ["a sign-in link request", "/api/auth/signin-link", { email: newAddress("link") }],
    [
      "a password reset request",
      "/api/auth/password-reset",
      { email: newAddress("reset") },
    ],
    ["an unknown sign-in link", "/api/auth/signin-link/confirm", { token: "unknown" }],
  ])(
    "the 303 with a flash message after %s is private, no-store",
    async (_, path, fields) => {
      const response = await postForm(path, fields);

      expect(response.status).toBe(303);
      expect(flashOf(response)).not.toBeNull();
      expect(response.headers.get("cache-control")).toBe("private, no-store");
    },
  );

  it("leaves the caching of an answer without a cookie to its route", async () => {
    const response = await fetch(`${stack.baseUrl}/api/pricing`);

    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).not.toBe("private, no-store");
  });
});

/** A sign-in attempt with a body of this type; the address is nobody's. */
function postBody(
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${stack.baseUrl}/api/auth/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: stack.baseUrl, "x-forwarded-for": newClient(), ...headers },
    body,
  });
}

async function messageOf(response: Response): Promise<string> {
  return ((await response.json()) as { message: string }).message;
}

describe("request bodies the API reads", () => {
  it("signs in with a multipart form, as curl -F sends it", async () => {
    const { email } = await accounts.signUp();
    const form = new FormData();
    form.set("email", email);
    form.set("password", PASSWORD);

    const response = await postBody(form, { accept: "application/json" });

    expect(response.status).toBe(200);
    expect(
      await accounts.me(response.headers.getSetCookie()[0]?.split(";")[0]),
    ).toMatchObject({ email });
  });

  it("refuses a multipart form that uploads a file with 400", async () => {
    const form = new FormData();
    form.set("email", "reader@example.com");
    form.set("password", new Blob(["secret"]), "password.txt");

    const response = await postBody(form, { accept: "application/json" });

    expect(response.status).toBe(400);
    expect(await messageOf(response)).toBe("Send the form without files.");
  });

  it("refuses a body without a Content-Type with 415, naming the types it reads", async () => {
    const response = await postBody(new TextEncoder().encode("email=a@example.com"), {
      accept: "application/json",
    });

    expect(response.status).toBe(415);
    expect(await messageOf(response)).toBe(
      "Send the body with a Content-Type: application/x-www-form-urlencoded, " +
        "multipart/form-data or application/json.",
    );
  });

  it("refuses a body of another type with 415, naming the types it reads", async () => {
    const response = await postBody("email=a@example.com", {
      accept: "application/json",
      "content-type": "text/plain",
    });

    expect(response.status).toBe(415);
    expect(await messageOf(response)).toMatch(
      /application\/x-www-form-urlencoded, multipart\/form-data or application\/json/,
    );
  });

  it.each(["null", '"x"', "[]", '["a"]', "42", "true"])(
    "refuses the JSON body %s with 400: it must be an object",
    async (body) => {
      const response = await postBody(body, { "content-type": "application/json" });

      expect(response.status).toBe(400);
      expect(await messageOf(response)).toBe("The request body must be a JSON object.");
    },
  );

  it("refuses a JSON body that does not parse with 400", async () => {
    const response = await postBody("{email", { "content-type": "application/json" });

    expect(response.status).toBe(400);
    expect(await messageOf(response)).toBe("The request body is not valid JSON.");
  });

  it("reads a JSON object sent with a charset", async () => {
    const body = JSON.stringify({ email: "nobody@example.com", password: "wrong" });
    const response = await postBody(body, {
      "content-type": "application/json; charset=utf-8",
    });

    expect(response.status).toBe(401);
    expect(await messageOf(response)).toBe("Wrong email or password.");
  });
});
