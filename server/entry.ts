// A virtual module that Nitro's bundler fills in (empty for Node).
import "#nitro-internal-pollyfills";
import { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { toNodeListener } from "h3";
import { useNitroApp } from "nitropack/runtime";
import gracefulShutdown from "nitropack/runtime/internal/lib/http-graceful-shutdown";
import { getGracefulShutdownConfig } from "nitropack/runtime/internal/shutdown";
import type { NitroApp } from "nitropack/types";
import { logError, logInfo, logWarn } from "./log.ts";

/**
 * The server process: Nitro's Node server, started so that every line it
 * prints is a JSON log line (see server/log.ts).
 *
 * On SIGTERM or SIGINT, Nitro's graceful shutdown stops accepting
 * connections, lets the requests under way finish (up to
 * NITRO_SHUTDOWN_TIMEOUT, 30 s by default), runs the plugins' `close` hooks
 * (the email worker finishes its delivery) and exits 0; the database closes
 * last, on exit (server/plugins/database.ts). The shutdown is Nitro's own,
 * set up here rather than through its `setupGracefulShutdown`, whose timeout
 * and hook failures print plain text: here they are log lines like any other.
 */

// What the server keeps between requests is small (about 20 MB of heap with a
// 5,000-post manifest), but under load each request leaves a few KB in the
// old generation, and V8's default lets the heap grow to several times what
// is live before it collects it (124 MB of heap holding 20 MB, measured at
// 8,000 requests a second). Collecting once the heap has grown a fifth keeps the peak near what
// is live, for a few milliseconds of (mostly concurrent) marking per second.
// `npm run bench:serve` measures both. Set before the app exists, so that
// every collection uses it.
setFlagsFromString("--heap-growing-percent=20");

const nitroApp = useNitroApp();
const server = new Server(toNodeListener(nitroApp.h3App));

const port = Number(process.env.NITRO_PORT || process.env.PORT || 3000);
const host = process.env.NITRO_HOST || process.env.HOST;

server.listen({ port, host }, () => {
  const { address, family, port: bound } = server.address() as AddressInfo;
  const shown = family === "IPv6" ? `[${address}]` : address;
  logInfo("server", `listening on http://${shown}:${bound}`);
});
server.on("error", (error) => {
  logError("server", "the server could not listen", error);
  process.exit(1);
});

process.on("unhandledRejection", (error) => {
  logError("server", "unhandled rejection", error);
});
process.on("uncaughtException", (error) => {
  logError("server", "uncaught exception", error);
});

setupShutdown(server, nitroApp);

function setupShutdown(listener: Server, app: NitroApp): void {
  const config = getGracefulShutdownConfig();
  if (config.disabled) return;
  gracefulShutdown(listener, {
    signals: config.signals.join(" "),
    timeout: config.timeout,
    forceExit: config.forceExit,
    onShutdown: () => runCloseHooks(app, config.timeout),
  });
}

/** The plugins' `close` hooks, given up on after `timeoutMs`. */
function runCloseHooks(app: NitroApp, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      logWarn("server", `shutdown still running after ${timeoutMs} ms; exiting`);
      resolve();
    }, timeoutMs);
    app.hooks
      .callHook("close")
      .catch((error: unknown) => logError("server", "a shutdown hook failed", error))
      .finally(() => {
        clearTimeout(timer);
        resolve();
      });
  });
}
