import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type H3Event, setResponseHeader, setResponseStatus } from "h3";

/*
 * The plumbing both emulators share: listening on a loopback port (0 picks a
 * free one), stopping without waiting for idle keep-alive connections, and
 * answering with an HTML page.
 */

/** Listens and answers the emulator's base URL and port. */
export function listen(
  server: Server,
  port: number,
  host: string,
): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = (server.address() as AddressInfo).port;
      const hostInUrl = host.includes(":") ? `[${host}]` : host;
      resolve({ url: `http://${hostInUrl}:${bound}`, port: bound });
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export function sendHtml(event: H3Event, markup: string, status = 200): string {
  setResponseStatus(event, status);
  setResponseHeader(event, "Content-Type", "text/html; charset=utf-8");
  setResponseHeader(event, "Cache-Control", "no-store");
  return markup;
}
