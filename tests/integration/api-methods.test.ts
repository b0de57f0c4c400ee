import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { API_METHODS } from "../../server/http/api-methods.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/** The methods the API answers, and how it refuses the others. */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("the API's methods", () => {
  it.each(["/api/health", "/api/me", "/api/pricing"])(
    "answers HEAD %s as GET, without the body",
    async (path) => {
      const get = await fetch(`${stack.baseUrl}${path}`);
      const head = await fetch(`${stack.baseUrl}${path}`, { method: "HEAD" });

      expect(head.status).toBe(get.status);
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(await head.text()).toBe("");
      expect((await get.text()).length).toBeGreaterThan(0);
    },
  );

  it("refuses a method an endpoint does not take with 405 and a plain message", async () => {
    const response = await fetch(`${stack.baseUrl}/api/health`, {
      method: "DELETE",
      headers: { origin: stack.baseUrl, accept: "application/json" },
    });

    expect(response.status).toBe(405);
    expect(response.statusText).toBe("Method Not Allowed");
    const body = (await response.json()) as { message: string };
    expect(body.message).toBe("This endpoint does not accept DELETE.");
  });
});

/** The endpoints and their methods as Nitro reads them from server/api's file names. */
function endpointsInFiles(): Record<string, string[]> {
  const endpoints: Record<string, string[]> = {};
  const files = readdirSync(join(repoRoot, "server/api"), { recursive: true });
  for (const file of files.map(String).filter((name) => name.endsWith(".ts"))) {
    const match = file.match(/^(.*?)(?:\/index)?\.(get|head|post|put|patch|delete)\.ts$/);
    if (!match) throw new Error(`server/api/${file} names no method`);
    const path = `/api/${match[1]}`.replace(/\/index$/, "");
    endpoints[path] = [...(endpoints[path] ?? []), match[2]?.toUpperCase() ?? ""].sort();
  }
  return endpoints;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** A request as a script sends it, from the site's origin, with a JSON body for writes. */
function send(path: string, method: string): Promise<Response> {
  const write = method !== "GET" && method !== "HEAD";
  return fetch(`${stack.baseUrl}${path}`, {
    method,
    redirect: "manual",
    headers: {
      origin: stack.baseUrl,
      accept: "application/json",
      ...(write ? { "content-type": "application/json" } : {}),
    },
    ...(write ? { body: "{}" } : {}),
  });
}

describe("the Allow header", () => {
  it("lists every endpoint in server/api with the methods its files take", () => {
    const table = Object.fromEntries(
      Object.entries(API_METHODS).map(([path, methods]) => [path, [...methods].sort()]),
    );
    expect(table).toEqual(endpointsInFiles());
  });

  it.each(Object.entries(API_METHODS))(
    "refuses every other method on %s with 405 and Allow: %s",
    async (path, allowed) => {
      for (const method of METHODS.filter((m) => !allowed.includes(m))) {
        const response = await send(path, method);

        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get("allow"), `${method} ${path}`).toBe(
          allowed.join(", "),
        );
      }
    },
  );

  it("answers PUT /api/me with 405, Allow: GET, HEAD and a plain message", async () => {
    const response = await send("/api/me", "PUT");

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
    const body = (await response.json()) as { message: string };
    expect(body.message).toBe("This endpoint does not accept PUT.");
  });

  it("keeps Allow: GET, HEAD on the site's pages", async () => {
    const response = await send("/", "POST");

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});

describe("unknown API addresses", () => {
  it.each(["/api/nonexistent", "/api/auth/nothing", "/api/me/extra", "/api"])(
    "answers %s with 404 whatever the method",
    async (path) => {
      for (const method of METHODS) {
        const response = await send(path, method);

        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.headers.get("allow"), `${method} ${path}`).toBeNull();
      }
    },
  );
});
