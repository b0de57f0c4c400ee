import type { H3Event } from "h3";

/**
 * The address rate limits count against. By default that is the connecting
 * socket's address. Behind reverse proxies, set TRUST_PROXY to the number of
 * proxies in front of the server: the client is then the entry that the
 * outermost trusted proxy appended to X-Forwarded-For. Entries to its left were
 * written by the client and prove nothing. A header with fewer entries than
 * there are trusted proxies did not pass through all of them, so the socket's
 * address is used. TRUST_PROXY is safe only while the server's port is
 * reachable from the proxy alone.
 */
export function clientAddress(event: H3Event): string {
  const socketAddress = normalizeAddress(
    event.node.req.socket.remoteAddress ?? "unknown",
  );
  const hops = trustedProxyHops(process.env.TRUST_PROXY);
  if (hops === 0) return socketAddress;

  const header = event.node.req.headers["x-forwarded-for"];
  const forwarded = forwardedClient(
    Array.isArray(header) ? header.join(",") : header,
    hops,
  );
  return forwarded ?? socketAddress;
}

/** The rate limit key for the request's client. */
export function clientRateLimitKey(event: H3Event): string {
  return rateLimitKeyFor(clientAddress(event));
}

/**
 * The client address that the `hops` trusted proxies vouch for: the entry
 * `hops` from the right. None when the header is shorter than that, since
 * every entry left is then one a client could have written.
 */
export function forwardedClient(
  header: string | undefined,
  hops: number,
): string | undefined {
  const entries = (header ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (hops < 1 || entries.length < hops) return undefined;
  const entry = entries[entries.length - hops];
  return entry ? normalizeAddress(entry) : undefined;
}

/**
 * An IPv4 address as it is; an IPv6 address by its /64 network, since one
 * subscriber line usually holds a whole /64 and can hop between its addresses.
 */
export function rateLimitKeyFor(address: string): string {
  if (!address.includes(":")) return address;
  return `${expandIpv6(address).slice(0, 4).join(":")}::/64`;
}

/**
 * TRUST_PROXY as a number of proxies: unset or empty is 0, otherwise digits
 * only. Anything else ("yes", "true", "-1") is refused rather than guessed at,
 * since a wrong guess either lets clients pick their own address or gives every
 * reader the proxy's.
 */
export function trustedProxyHops(setting: string | undefined): number {
  const value = (setting ?? "").trim();
  if (value === "") return 0;
  if (!/^\d+$/.test(value)) {
    throw new Error(
      `TRUST_PROXY must be the number of proxies in front (0, 1, 2 …), not "${value}"`,
    );
  }
  return Number(value);
}

function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}

function expandIpv6(address: string): string[] {
  const [head = "", tail] = (address.split("%")[0] ?? "").split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array<string>(missing).fill("0"), ...right].map(
    (group) => group.replace(/^0+(?=.)/, "") || "0",
  );
}
