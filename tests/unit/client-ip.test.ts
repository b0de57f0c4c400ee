import { describe, expect, it } from "vitest";
import {
  forwardedClient,
  rateLimitKeyFor,
  trustedProxyHops,
} from "../../server/http/client-ip.ts";

describe("the client behind trusted proxies", () => {
  it("is the entry the outermost trusted proxy appended, not what the client wrote", () => {
    const header = "6.6.6.6, 203.0.113.7, 10.0.0.2";
    expect(forwardedClient(header, 1)).toBe("10.0.0.2");
    expect(forwardedClient(header, 2)).toBe("203.0.113.7");
    expect(forwardedClient("203.0.113.7", 3)).toBe("203.0.113.7");
    expect(forwardedClient(undefined, 1)).toBeUndefined();
    expect(forwardedClient("::ffff:198.51.100.4", 1)).toBe("198.51.100.4");
  });

  it("counts proxies only when TRUST_PROXY says how many", () => {
    expect(trustedProxyHops(undefined)).toBe(0);
    expect(trustedProxyHops("false")).toBe(0);
    expect(trustedProxyHops("true")).toBe(1);
    expect(trustedProxyHops("2")).toBe(2);
  });
});

describe("rate limit keys", () => {
  it("keep IPv4 addresses whole and group IPv6 addresses by /64", () => {
    expect(rateLimitKeyFor("203.0.113.7")).toBe("203.0.113.7");
    expect(rateLimitKeyFor("2001:db8:0:12::1")).toBe("2001:db8:0:12::/64");
    expect(rateLimitKeyFor("2001:0db8:0000:0012:abcd::9")).toBe("2001:db8:0:12::/64");
    expect(rateLimitKeyFor("::1")).toBe("0:0:0:0::/64");
  });
});
