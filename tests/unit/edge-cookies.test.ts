import { describe, expect, it } from "vitest";
import { readEdgeConfig } from "../../server/edge/config.ts";
import {
  checkEdgeSecret,
  edgeCookieName,
  serializeEdgeCookie,
  signEdgeValue,
  verifyEdgeValue,
} from "../../server/edge/cookies.ts";

const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==";

describe("edge cookie values", () => {
  it("match what nginx's secure_link_md5 computes for the same string", () => {
    // printf 'tierwall-edge:2000000000:core:<secret>' | openssl md5 -binary |
    //   openssl base64 | tr +/ -_ | tr -d =   (the recipe in nginx's documentation)
    expect(signEdgeValue(SECRET, "core", 2_000_000_000)).toBe(
      "Dlf-6GwuAY4PM7N7ySzNIw,2000000000",
    );
  });

  it("verify only for their own tier, secret and expiry, until they expire", () => {
    const value = signEdgeValue(SECRET, "core", 2_000_000_000);
    expect(verifyEdgeValue(SECRET, "core", value, 1_999_999_999)).toEqual({
      valid: true,
      expires: 2_000_000_000,
    });
    expect(verifyEdgeValue(SECRET, "core", value, 2_000_000_000).valid).toBe(true);
    expect(verifyEdgeValue(SECRET, "core", value, 2_000_000_001).valid).toBe(false);
    expect(verifyEdgeValue(SECRET, "spark", value, 0).valid).toBe(false);
    expect(verifyEdgeValue(`${SECRET}x`, "core", value, 0).valid).toBe(false);
    expect(verifyEdgeValue(SECRET, "core", value.replace(",2", ",3"), 0).valid).toBe(
      false,
    );
    expect(verifyEdgeValue(SECRET, "core", value.replace(",2", ",02"), 0).valid).toBe(
      false,
    );
    expect(verifyEdgeValue(SECRET, "core", "garbage", 0).valid).toBe(false);
  });

  it("are named like the session cookie: __Host- on an https site", () => {
    expect(edgeCookieName("core", false)).toBe("tierwall_edge_core");
    expect(edgeCookieName("core", true)).toBe("__Host-tierwall_edge_core");
  });

  it("are set HttpOnly, SameSite=Lax, Path=/ and Secure when asked, comma unencoded", () => {
    expect(serializeEdgeCookie("n", "a,1", { secure: true, maxAge: 300 })).toBe(
      "n=a,1; Max-Age=300; Path=/; HttpOnly; Secure; SameSite=Lax",
    );
    expect(serializeEdgeCookie("n", "", { secure: false, maxAge: 0 })).toBe(
      "n=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
    );
  });
});

describe("edge cookie configuration", () => {
  it("is off without EDGE_COOKIE_SECRET", () => {
    expect(readEdgeConfig({})).toBeNull();
    expect(readEdgeConfig({ EDGE_COOKIE_SECRET: " " })).toBeNull();
  });

  it("lasts 300 seconds unless told otherwise, and covers the paid tiers only", () => {
    const config = readEdgeConfig({ EDGE_COOKIE_SECRET: SECRET });
    expect(config?.ttlSeconds).toBe(300);
    expect(config?.paidTiers).toEqual(["spark", "core", "lightning"]);
    const longer = readEdgeConfig({
      EDGE_COOKIE_SECRET: SECRET,
      EDGE_COOKIE_TTL_SECONDS: "900",
    });
    expect(longer?.ttlSeconds).toBe(900);
  });

  it("refuses a short or nginx-unsafe secret and a lifetime out of range", () => {
    expect(() => checkEdgeSecret("short")).toThrow(/at least 32/);
    expect(() => checkEdgeSecret(`${"a".repeat(32)}$x`)).toThrow();
    expect(() => checkEdgeSecret(`${"a".repeat(32)}:x`)).toThrow();
    for (const ttl of ["0", "29", "86401", "1.5", "soon"]) {
      expect(() =>
        readEdgeConfig({ EDGE_COOKIE_SECRET: SECRET, EDGE_COOKIE_TTL_SECONDS: ttl }),
      ).toThrow(/EDGE_COOKIE_TTL_SECONDS/);
    }
  });
});
