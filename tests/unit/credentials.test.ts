import { describe, expect, it } from "vitest";
import {
  normalizeEmail,
  parseSignInFields,
  parseSignUpFields,
} from "../../server/auth/credentials.ts";

describe("sign-up fields", () => {
  it("normalises the address: trimmed and lower case", () => {
    expect(normalizeEmail("  Mara.Lindqvist@Example.COM ")).toBe(
      "mara.lindqvist@example.com",
    );
    expect(
      parseSignUpFields({ email: " Mara@Example.com", password: "ten chars!" }),
    ).toEqual({
      ok: true,
      credentials: { email: "mara@example.com", password: "ten chars!" },
    });
  });

  it("explains what is wrong with the address", () => {
    expect(parseSignUpFields({ password: "long enough password" })).toEqual({
      ok: false,
      message: "Enter your email address.",
    });
    expect(
      parseSignUpFields({ email: "mara@", password: "long enough password" }),
    ).toEqual({
      ok: false,
      message: expect.stringMatching(/valid email address/),
    });
  });

  it("wants 10 to 256 characters of password, counting an emoji once", () => {
    const short = parseSignUpFields({ email: "a@example.com", password: "nine char" });
    expect(short).toEqual({ ok: false, message: expect.stringMatching(/at least 10/) });

    const emoji = parseSignUpFields({
      email: "a@example.com",
      password: "🔑".repeat(10),
    });
    expect(emoji.ok).toBe(true);

    const long = parseSignUpFields({ email: "a@example.com", password: "x".repeat(257) });
    expect(long).toEqual({ ok: false, message: expect.stringMatching(/at most 256/) });
  });
});

describe("sign-in fields", () => {
  it("accepts any non-empty password up to the cap, so old passwords still work", () => {
    expect(parseSignInFields({ email: "a@example.com", password: "short" }).ok).toBe(
      true,
    );
    expect(parseSignInFields({ email: "a@example.com", password: "" })).toEqual({
      ok: false,
      message: "Enter your password.",
    });
  });
});
