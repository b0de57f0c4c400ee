import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  type ResendEmulator,
  startResendEmulator,
} from "../../emulators/resend/index.ts";
import { loadContract } from "./support/contracts.ts";
import {
  checkSchema,
  describeProblems,
  responseSchema,
} from "./support/openapi-check.ts";

/*
 * Holds the Resend emulator's responses to Resend's published OpenAPI document
 * (../shared/contracts/resend-subset.json), including that it adds nothing the
 * schema lacks. The document describes successes only; error answers are held
 * to the shape the official SDK declares for them (`ErrorResponse`: statusCode,
 * name, message, with `name` one of its RESEND_ERROR_CODE_KEY codes), read from
 * the SDK's published type declarations.
 */

const contract = loadContract("resend-subset.json");
let emulator: ResendEmulator;

beforeAll(async () => {
  emulator = await startResendEmulator();
});

beforeEach(async () => {
  await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });
});

afterAll(async () => {
  await emulator.close();
});

async function post(
  path: string,
  payload: unknown,
  headers: Record<string, string> = { Authorization: "Bearer re_test_contract" },
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  return {
    status: response.status,
    body: await response.json(),
    headers: response.headers,
  };
}

/** The error codes the SDK's `ErrorResponse.name` may hold, from its type declarations. */
function sdkErrorCodes(): Set<string> {
  const declarations = readFileSync(
    fileURLToPath(new URL("../../node_modules/resend/dist/index.d.mts", import.meta.url)),
    "utf8",
  );
  const union = /type RESEND_ERROR_CODE_KEY = ([^;]+);/.exec(declarations)?.[1] ?? "";
  return new Set([...union.matchAll(/'([a-z_]+)'/g)].map((match) => match[1] ?? ""));
}

function expectErrorResponse(answer: { status: number; body: unknown }): void {
  const body = answer.body as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["message", "name", "statusCode"]);
  expect(body.statusCode).toBe(answer.status);
  expect(sdkErrorCodes()).toContain(body.name);
  expect(typeof body.message).toBe("string");
  expect(String(body.message).length).toBeGreaterThan(0);
}

async function fault(body: object): Promise<void> {
  await fetch(`${emulator.url}/_emulator/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The Idempotency-Key header's schema, as the contract publishes it for a route. */
function idempotencyKeyLimit(path: string): number {
  const operation = contract.paths?.[path]?.post as
    | { parameters?: { name: string; in: string; schema?: { maxLength?: number } }[] }
    | undefined;
  const parameter = operation?.parameters?.find(
    (candidate) => candidate.in === "header" && candidate.name === "Idempotency-Key",
  );
  if (!parameter?.schema?.maxLength) throw new Error(`${path} declares no key limit`);
  return parameter.schema.maxLength;
}

const email = {
  from: "Tierwall <hello@tierwall.localhost>",
  to: ["reader@example.com"],
  subject: "Your subscription started",
  html: "<p>Thanks for subscribing.</p>",
  tags: [{ name: "kind", value: "subscription_started" }],
};

describe("Resend contract", () => {
  test("POST /emails answers a SendEmailResponse", async () => {
    const { status, body } = await post("/emails", email);

    expect(status).toBe(200);
    const schema = responseSchema(contract, "/emails", "post");
    expect(describeProblems(checkSchema(contract, schema, body))).toBe("");
    expect(body).toHaveProperty("id");
  });

  test("POST /emails/batch answers a CreateBatchEmailsResponse", async () => {
    const { status, body } = await post("/emails/batch", [
      email,
      { ...email, text: "Thanks." },
    ]);

    expect(status).toBe(200);
    const schema = responseSchema(contract, "/emails/batch", "post");
    expect(describeProblems(checkSchema(contract, schema, body))).toBe("");
    expect((body as { data: unknown[] }).data).toHaveLength(2);
  });

  test("a request with only the contract's required fields and a body is accepted", async () => {
    const request = contract.components.schemas.SendEmailRequest;
    const required = request?.required ?? [];
    const minimal = Object.fromEntries(
      required.map((field) => [field, email[field as keyof typeof email]]),
    );

    const { status } = await post("/emails", { ...minimal, text: "Hello." });
    expect(required).toEqual(["from", "to", "subject"]);
    expect(status).toBe(200);
  });
});

describe("Resend contract: errors", () => {
  test("the SDK's error codes were found in its declarations", () => {
    expect(sdkErrorCodes()).toContain("rate_limit_exceeded");
    expect(sdkErrorCodes().size).toBeGreaterThan(10);
  });

  test.each([
    ["a missing field", "/emails", { ...email, subject: undefined }, 422],
    ["a malformed address", "/emails", { ...email, to: ["nobody"] }, 422],
    ["an empty batch", "/emails/batch", [], 422],
  ])("%s answers an ErrorResponse", async (_, path, payload, status) => {
    const answer = await post(path, payload);
    expect(answer.status).toBe(status);
    expectErrorResponse(answer);
  });

  test("a missing or invalid API key answers an ErrorResponse", async () => {
    const missing = await post("/emails", email, {});
    const invalid = await post("/emails", email, { Authorization: "Bearer sk_wrong" });

    expect([missing.status, invalid.status]).toEqual([401, 403]);
    expectErrorResponse(missing);
    expectErrorResponse(invalid);
  });

  test("an Idempotency-Key up to the contract's maxLength is accepted, a longer one refused", async () => {
    const limit = idempotencyKeyLimit("/emails");
    const auth = { Authorization: "Bearer re_test_contract" };

    const longest = await post("/emails", email, {
      ...auth,
      "Idempotency-Key": "k".repeat(limit),
    });
    const tooLong = await post("/emails", email, {
      ...auth,
      "Idempotency-Key": "k".repeat(limit + 1),
    });

    expect(longest.status).toBe(200);
    expect(tooLong.status).toBe(400);
    expectErrorResponse(tooLong);
    expect(tooLong.body).toMatchObject({ name: "invalid_idempotency_key" });
  });

  test("a key reused with another payload answers 409 invalid_idempotent_request", async () => {
    const headers = {
      Authorization: "Bearer re_test_contract",
      "Idempotency-Key": "reuse",
    };
    await post("/emails", email, headers);
    const conflict = await post("/emails", { ...email, subject: "Another" }, headers);

    expect(conflict.status).toBe(409);
    expectErrorResponse(conflict);
    expect(conflict.body).toMatchObject({ name: "invalid_idempotent_request" });
  });

  test.each([500, 502, 503])(
    "an injected %i answers an ErrorResponse",
    async (status) => {
      await fault({ kind: "error", status, count: 1 });
      const answer = await post("/emails", email);

      expect(answer.status).toBe(status);
      expectErrorResponse(answer);
    },
  );

  test("an injected rate limit answers 429 rate_limit_exceeded with a delta-seconds Retry-After", async () => {
    await fault({ kind: "rate_limit", retry_after: 3, count: 1 });
    const answer = await post("/emails/batch", [email]);

    expect(answer.status).toBe(429);
    expectErrorResponse(answer);
    expect(answer.body).toMatchObject({ name: "rate_limit_exceeded" });
    expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(answer.headers.get("retry-after")).toBe("3");
  });

  test("an unknown route answers an ErrorResponse", async () => {
    const answer = await post("/nowhere", {});
    expect(answer.status).toBe(404);
    expectErrorResponse(answer);
  });
});
