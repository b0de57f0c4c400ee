import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
