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
      password: "🔑🌊".repeat(5),
    });
    expect(emoji.ok).toBe(true);

    const long = parseSignUpFields({ email: "a@example.com", password: "x".repeat(257) });
    expect(long).toEqual({ ok: false, message: expect.stringMatching(/at most 256/) });
  });

  it("refuses a password that is one character over and over, spaces included", () => {
    for (const password of [" ".repeat(10), "a".repeat(12), "🔑".repeat(10)]) {
      expect(parseSignUpFields({ email: "a@example.com", password })).toEqual({
        ok: false,
        message: expect.stringMatching(/one character over and over/),
      });
    }
    const spaced = parseSignUpFields({
      email: "a@example.com",
      password: "  long phrase  ",
    });
    expect(spaced.ok).toBe(true);
  });

  it("says plainly that addresses outside ASCII are not supported", () => {
    for (const email of ["jürgen@exämple.com", "用户@例子.广告"]) {
      expect(parseSignUpFields({ email, password: "long enough password" })).toEqual({
        ok: false,
        message: expect.stringMatching(/plain ASCII/),
      });
    }
    expect(
      parseSignUpFields({ email: "a b@example.com", password: "long enough password" }),
    ).toEqual({ ok: false, message: expect.stringMatching(/valid email address/) });
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
