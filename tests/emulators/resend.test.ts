import { Resend } from "resend";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  type ResendEmulator,
  startResendEmulator,
} from "../../emulators/resend/index.ts";

let emulator: ResendEmulator;
let resend: Resend;

const letter = {
  from: "The Stacker <letters@stacker.localhost>",
  to: "reader@example.com",
  subject: "Confirm your email",
  html: '<p>Welcome. <a href="http://localhost:3000/verify?token=abc">Confirm</a></p>',
  text: "Welcome. Confirm: http://localhost:3000/verify?token=abc",
};

beforeAll(async () => {
  emulator = await startResendEmulator();
  resend = new Resend("re_test_emulator", { baseUrl: emulator.url });
});

beforeEach(async () => {
  await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });
});

afterAll(async () => {
  await emulator.close();
});

describe("Resend emulator", () => {
  test("emails.send returns data.id and the email is kept as sent", async () => {
    const { data, error } = await resend.emails.send(letter);

    expect(error).toBeNull();
    expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);
    const [stored] = emulator.emails();
    expect(stored).toMatchObject({
      id: data?.id,
      from: letter.from,
      to: ["reader@example.com"],
      subject: "Confirm your email",
      html: letter.html,
      text: letter.text,
    });
  });

  test("the SDK reads RESEND_BASE_URL when no baseUrl is given", async () => {
    const previous = process.env.RESEND_BASE_URL;
    process.env.RESEND_BASE_URL = emulator.url;
    try {
      const { data } = await new Resend("re_test_env").emails.send(letter);
      expect(data?.id).toBeTruthy();
    } finally {
      process.env.RESEND_BASE_URL = previous;
    }
  });

  test("the same Idempotency-Key returns the same id and stores no second email", async () => {
    const first = await resend.emails.send(letter, { idempotencyKey: "welcome/user-1" });
    const again = await resend.emails.send(letter, { idempotencyKey: "welcome/user-1" });

    expect(again.data?.id).toBe(first.data?.id);
    expect(emulator.emails()).toHaveLength(1);
  });

  test("an Idempotency-Key reused with another payload is refused with 409", async () => {
    await resend.emails.send(letter, { idempotencyKey: "welcome/user-2" });
    const { data, error } = await resend.emails.send(
      { ...letter, subject: "Something else" },
      { idempotencyKey: "welcome/user-2" },
    );

    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    expect(emulator.emails()).toHaveLength(1);
  });

  test.each([
    ["from", { ...letter, from: undefined }],
    ["to", { ...letter, to: undefined }],
    ["subject", { ...letter, subject: undefined }],
  ])("a missing %s gives an error and no data", async (field, payload) => {
    const { data, error } = await resend.emails.send(payload as unknown as typeof letter);

    expect(data).toBeNull();
    expect(error).toMatchObject({ statusCode: 422, name: "missing_required_field" });
    expect(error?.message).toContain(`\`${field}\``);
    expect(emulator.emails()).toHaveLength(0);
  });

  test("an email with neither html nor text is refused", async () => {
    const { html: _, text: __, ...bare } = letter;
    const { error } = await resend.emails.send(bare as typeof letter);

    expect(error).toMatchObject({ statusCode: 422 });
    expect(error?.message).toMatch(/html.*text/);
  });

  test("a malformed from address is a validation error", async () => {
    const { error } = await resend.emails.send({ ...letter, from: "The Stacker" });

    expect(error).toMatchObject({ statusCode: 422, name: "validation_error" });
  });

  test("a request without an API key is refused", async () => {
    const response = await fetch(`${emulator.url}/emails`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(letter),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ name: "missing_api_key" });
  });

  test("batch sends several emails and returns their ids in order", async () => {
    const { data, error } = await resend.batch.send([
      { ...letter, to: "a@example.com" },
      { ...letter, to: "b@example.com" },
    ]);

    expect(error).toBeNull();
    const recipients = emulator.emails().map((email) => email.to[0]);
    expect(recipients).toEqual(["a@example.com", "b@example.com"]);
    expect(data?.data.map((item) => item.id)).toEqual(
      emulator.emails().map((email) => email.id),
    );
  });

  test("a strict batch with one bad email sends none", async () => {
    const { error } = await resend.batch.send([
      letter,
      { ...letter, to: "not-an-address" },
    ]);

    expect(error).toMatchObject({ statusCode: 422 });
    expect(error?.message).toContain("emails[1]");
    expect(emulator.emails()).toHaveLength(0);
  });

  test("emails.get returns what was sent", async () => {
    const { data: sent } = await resend.emails.send(letter);
    const { data } = await resend.emails.get(sent?.id ?? "");

    expect(data).toMatchObject({
      object: "email",
      id: sent?.id,
      subject: letter.subject,
      to: ["reader@example.com"],
      last_event: "delivered",
    });
  });

  test("a simulated outage fails the next sends and stores nothing", async () => {
    await fetch(`${emulator.url}/_emulator/fail-next`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ count: 1, status: 503 }),
    });

    const failed = await resend.emails.send(letter, { idempotencyKey: "outage-1" });
    const retried = await resend.emails.send(letter, { idempotencyKey: "outage-1" });

    expect(failed.error).toMatchObject({ statusCode: 503 });
    expect(retried.data?.id).toBeTruthy();
    expect(emulator.emails()).toHaveLength(1);
  });

  test("the inbox page lists emails newest first and links to each body", async () => {
    await resend.emails.send({ ...letter, subject: "First <letter>" });
    const { data } = await resend.emails.send({ ...letter, subject: "Second letter" });

    const inbox = await (await fetch(emulator.url)).text();
    const body = await (await fetch(`${emulator.url}/view/${data?.id}/html`)).text();

    expect(inbox.indexOf("Second letter")).toBeLessThan(
      inbox.indexOf("First &lt;letter&gt;"),
    );
    expect(inbox).toContain(`href="/view/${data?.id}"`);
    expect(body).toBe(letter.html);
  });

  test("the JSON list for tests can be filtered by recipient", async () => {
    await resend.emails.send({ ...letter, to: ["x@example.com"] });
    await resend.emails.send({ ...letter, to: ["y@example.com"] });

    const response = await fetch(`${emulator.url}/_emulator/emails?to=y@example.com`);
    const emails = (await response.json()) as { to: string[] }[];

    expect(emails.map((email) => email.to)).toEqual([["y@example.com"]]);
  });
});

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function attempts(): Promise<{
  count: number;
  attempts: {
    idempotency_key: string | null;
    status: number;
    error: string | null;
    email_ids: string[];
    replayed: boolean;
    fault: string | null;
  }[];
}> {
  return (await (await control("GET", "attempts")).json()) as never;
}

describe("Resend emulator faults", () => {
  test("an error fault refuses the next n sends with Resend's error body, then recovers", async () => {
    const set = await control("POST", "faults", { kind: "error", status: 503, count: 2 });
    expect(await set.json()).toEqual({
      fault: {
        kind: "error",
        remaining: 2,
        status: 503,
        name: "application_error",
        message: "An unexpected error occurred. Please try again later.",
      },
    });

    const first = await resend.emails.send(letter, { idempotencyKey: "fault-1" });
    const second = await resend.emails.send(letter, { idempotencyKey: "fault-1" });
    const third = await resend.emails.send(letter, { idempotencyKey: "fault-1" });

    expect(first.data).toBeNull();
    expect(first.error).toEqual({
      statusCode: 503,
      name: "application_error",
      message: "An unexpected error occurred. Please try again later.",
    });
    expect(second.error).toMatchObject({ statusCode: 503 });
    expect(third.data?.id).toBeTruthy();
    expect(emulator.emails()).toHaveLength(1);
    expect(await (await control("GET", "faults")).json()).toEqual({ fault: null });
  });

  test("a fault without a count lasts until it is turned off", async () => {
    await control("POST", "faults", { kind: "error" });
    for (let n = 0; n < 4; n++) {
      const { error } = await resend.emails.send(letter);
      expect(error).toMatchObject({ statusCode: 500, name: "internal_server_error" });
    }

    expect(await (await control("DELETE", "faults")).json()).toEqual({ fault: null });
    const { data } = await resend.emails.send(letter);
    expect(data?.id).toBeTruthy();
    expect(emulator.emails()).toHaveLength(1);
  });

  test("a rate limit answers 429 with Retry-After, which the SDK hands back in headers", async () => {
    await control("POST", "faults", { kind: "rate_limit", retry_after: 17, count: 1 });

    const limited = await resend.emails.send(letter);

    expect(limited.error).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
    expect(limited.headers?.["retry-after"]).toBe("17");
    expect(limited.headers?.["ratelimit-remaining"]).toBe("0");
    expect(emulator.emails()).toHaveLength(0);
  });

  test("a slow answer has sent the email all the same: a retry with its key gets the same id", async () => {
    await control("POST", "faults", { kind: "slow", delay_ms: 400, count: 1 });

    const started = Date.now();
    const abandoned = await resend.emails.send(letter, {
      idempotencyKey: "slow-1",
      signal: AbortSignal.timeout(100),
    });
    expect(abandoned.data).toBeNull();
    expect(Date.now() - started).toBeLessThan(400);

    const retried = await resend.emails.send(letter, { idempotencyKey: "slow-1" });
    expect(retried.data?.id).toBeTruthy();
    expect(emulator.emails().map((email) => email.id)).toEqual([retried.data?.id]);

    const log = await attempts();
    expect(log.attempts.map((a) => [a.fault, a.replayed])).toEqual([
      ["slow", false],
      [null, true],
    ]);
  });

  test("a missing-id answer is a 200 without the id, and a retry with its key gets the id", async () => {
    await control("POST", "faults", { kind: "missing_id", count: 1 });

    const unconfirmed = await resend.emails.send(letter, { idempotencyKey: "no-id-1" });
    expect(unconfirmed.error).toBeNull();
    expect(unconfirmed.data).toEqual({});

    const retried = await resend.emails.send(letter, { idempotencyKey: "no-id-1" });
    expect(retried.data?.id).toBeTruthy();
    expect(emulator.emails().map((email) => email.id)).toEqual([retried.data?.id]);
    const log = await attempts();
    expect(log.attempts.map((a) => [a.status, a.fault, a.replayed])).toEqual([
      [200, "missing_id", false],
      [200, null, true],
    ]);
  });

  test("a slow answer comes after the delay", async () => {
    await control("POST", "faults", { kind: "slow", delay_ms: 300 });

    const started = Date.now();
    const { data } = await resend.emails.send(letter);

    expect(data?.id).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test("every send attempt is counted, refused ones included", async () => {
    await control("POST", "faults", { kind: "error", status: 500, count: 1 });
    await resend.emails.send(letter, { idempotencyKey: "count-1" });
    const { data } = await resend.emails.send(letter, { idempotencyKey: "count-1" });
    await resend.emails.send(letter, { idempotencyKey: "count-1" });
    await fetch(`${emulator.url}/emails`, { method: "POST", body: "{}" });

    const log = await attempts();
    expect(log.count).toBe(4);
    expect(log.attempts).toMatchObject([
      { idempotency_key: "count-1", status: 500, error: "internal_server_error" },
      { idempotency_key: "count-1", status: 200, email_ids: [data?.id], replayed: false },
      { idempotency_key: "count-1", status: 200, email_ids: [data?.id], replayed: true },
      { idempotency_key: null, status: 401, error: "missing_api_key" },
    ]);
    expect(emulator.attempts()).toHaveLength(4);
  });

  test("the list of received emails shows their idempotency keys; Resend's API does not", async () => {
    const { data } = await resend.emails.send(letter, { idempotencyKey: "listed-1" });

    const listed = (await (await control("GET", "emails")).json()) as {
      idempotency_key: string | null;
    }[];
    const fetched = await resend.emails.get(data?.id ?? "");

    expect(listed.map((email) => email.idempotency_key)).toEqual(["listed-1"]);
    expect(fetched.data).not.toHaveProperty("idempotency_key");
  });

  test("a fault body it cannot read is refused with 400", async () => {
    for (const body of [
      { kind: "flood" },
      { kind: "slow" },
      { kind: "error", count: 0 },
    ]) {
      const response = await control("POST", "faults", body);
      expect(response.status).toBe(400);
    }
    expect(await (await control("GET", "faults")).json()).toEqual({ fault: null });
  });

  test("reset forgets faults and attempts", async () => {
    await control("POST", "faults", { kind: "error" });
    await resend.emails.send(letter);
    await control("POST", "reset");

    expect((await attempts()).count).toBe(0);
    expect((await resend.emails.send(letter)).data?.id).toBeTruthy();
  });
});
