import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../helpers/stack.ts";

/** Oversized and unsized bodies are refused before the server buffers them. */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function rawPost(
  path: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.baseUrl}${path}`, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer and close before the whole body is sent.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("request bodies", () => {
  it("refuses a webhook body over a megabyte with 413, without a signature check", async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const response = await fetch(`${stack.baseUrl}/api/stripe/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" },
      body,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toMatch(/too large/);
  });

  it("refuses a sign-in form over a megabyte with 413", async () => {
    const response = await stack.post("/api/auth/login", {
      email: "reader@example.com",
      password: "x".repeat(2 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
  });

  it("refuses a chunked body without a length with 411", async () => {
    const response = await rawPost(
      "/api/auth/login",
      {
        origin: stack.baseUrl,
        "content-type": "application/x-www-form-urlencoded",
        "transfer-encoding": "chunked",
      },
      [Buffer.from("email=a%40b.example&"), Buffer.from("password=whatever")],
    );
    expect(response.status).toBe(411);
  });

  it("still accepts an ordinary form post", async () => {
    const reader = await stack.signUp();
    const response = await stack.post("/api/auth/login", {
      email: reader.email,
      password: reader.password,
    });
    expect(response.status).toBe(303);
  });
});
