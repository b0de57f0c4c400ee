import { describe, expect, it } from "vitest";
import { checkRequestOrigin, collectAllowedOrigins } from "../../server/http/origin.ts";

const allowed = collectAllowedOrigins(
  "https://stacker.example/",
  "https://preview.stacker.example, not a url,",
);

function post(headers: { origin?: string; referer?: string }, path = "/api/auth/login") {
  return checkRequestOrigin({ method: "POST", path, ...headers }, allowed);
}

describe("checkRequestOrigin", () => {
  it("lets reads through without any header", () => {
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      expect(checkRequestOrigin({ method, path: "/" }, allowed).allowed).toBe(true);
    }
  });

  it("accepts the site's origin and the extra allowed ones", () => {
    expect(post({ origin: "https://stacker.example" }).allowed).toBe(true);
    expect(post({ origin: "https://preview.stacker.example" }).allowed).toBe(true);
  });

  it("refuses another origin, another scheme or port, and the opaque origin", () => {
    for (const origin of [
      "https://evil.example",
      "http://stacker.example",
      "https://stacker.example:8443",
      "null",
    ]) {
      expect(post({ origin }).allowed).toBe(false);
    }
  });

  it("falls back to the Referer's origin only when Origin is missing", () => {
    expect(post({ referer: "https://stacker.example/account/" }).allowed).toBe(true);
    expect(post({ referer: "https://evil.example/stacker.example" }).allowed).toBe(false);
    expect(
      post({ origin: "https://evil.example", referer: "https://stacker.example/" })
        .allowed,
    ).toBe(false);
  });

  it("refuses a write with neither header, with a reason", () => {
    const verdict = post({});
    expect(verdict).toEqual({ allowed: false, reason: expect.stringMatching(/Origin/) });
  });

  it("exempts only the Stripe webhook, whose signature is its check", () => {
    expect(post({}, "/api/stripe/webhook").allowed).toBe(true);
    expect(post({}, "/api/stripe/webhook?x=1").allowed).toBe(true);
    expect(post({}, "/api/stripe/webhooks").allowed).toBe(false);
    expect(
      checkRequestOrigin({ method: "PUT", path: "/api/stripe/webhook" }, allowed),
    ).toEqual(expect.objectContaining({ allowed: false }));
  });
});
