import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
 * schema lacks.
 */

const contract = loadContract("resend-subset.json");
let emulator: ResendEmulator;

beforeAll(async () => {
  emulator = await startResendEmulator();
});

afterAll(async () => {
  await emulator.close();
});

async function post(
  path: string,
  payload: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: "POST",
    headers: {
      Authorization: "Bearer re_test_contract",
      "Content-Type": "application/json",
    },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
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
