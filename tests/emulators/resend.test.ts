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
