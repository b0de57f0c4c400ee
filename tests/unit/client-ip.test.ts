import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp, eventHandler, toNodeListener } from "h3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  clientAddress,
  forwardedClient,
  rateLimitKeyFor,
  trustedProxyHops,
} from "../../server/http/client-ip.ts";

describe("the client behind trusted proxies", () => {
  it("is the entry the outermost trusted proxy appended, not what the client wrote", () => {
    const header = "6.6.6.6, 203.0.113.7, 10.0.0.2";
    expect(forwardedClient(header, 1)).toBe("10.0.0.2");
    expect(forwardedClient(header, 2)).toBe("203.0.113.7");
    expect(forwardedClient(header, 3)).toBe("6.6.6.6");
    expect(forwardedClient(undefined, 1)).toBeUndefined();
    expect(forwardedClient("::ffff:198.51.100.4", 1)).toBe("198.51.100.4");
  });

  it("is none when the header has fewer entries than there are trusted proxies", () => {
    expect(forwardedClient("203.0.113.7", 2)).toBeUndefined();
    expect(forwardedClient("6.6.6.6, 203.0.113.7", 3)).toBeUndefined();
    expect(forwardedClient(" , 203.0.113.7 ,", 2)).toBeUndefined();
    expect(forwardedClient("", 1)).toBeUndefined();
  });

  it("counts proxies only when TRUST_PROXY says how many", () => {
    expect(trustedProxyHops(undefined)).toBe(0);
    expect(trustedProxyHops("")).toBe(0);
    expect(trustedProxyHops("0")).toBe(0);
    expect(trustedProxyHops(" 2 ")).toBe(2);
    for (const value of ["true", "false", "yes", "-1", "1.5"]) {
      expect(() => trustedProxyHops(value)).toThrow(`TRUST_PROXY must be`);
    }
  });
});

describe("the address of a request", () => {
  let server: Server;
  let url: string;
  const trustProxy = process.env.TRUST_PROXY;

  beforeAll(async () => {
    const app = createApp().use(eventHandler((event) => clientAddress(event)));
    server = createServer(toNodeListener(app)).listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterEach(() => {
    if (trustProxy === undefined) delete process.env.TRUST_PROXY;
    else process.env.TRUST_PROXY = trustProxy;
  });

  afterAll(async () => {
    server.close();
    await once(server, "close");
  });

  const addressSeen = async (forwardedFor?: string): Promise<string> => {
    const headers: Record<string, string> = forwardedFor
      ? { "x-forwarded-for": forwardedFor }
      : {};
    return (await fetch(url, { headers })).text();
  };

  it("is the socket's when no proxy is trusted, whatever the header says", async () => {
    delete process.env.TRUST_PROXY;
    expect(await addressSeen("203.0.113.7")).toBe("127.0.0.1");
  });

  it("is the one the outermost of two trusted proxies appended", async () => {
    process.env.TRUST_PROXY = "2";
    expect(await addressSeen("6.6.6.6, 203.0.113.7, 10.0.0.2")).toBe("203.0.113.7");
  });

  it("is the socket's when the header is too short to have passed every trusted proxy", async () => {
    process.env.TRUST_PROXY = "2";
    expect(await addressSeen("6.6.6.6")).toBe("127.0.0.1");
    expect(await addressSeen()).toBe("127.0.0.1");
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
