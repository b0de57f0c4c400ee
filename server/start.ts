import { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeListener } from "h3";
import { useNitroApp } from "nitropack/runtime";
import gracefulShutdown from "nitropack/runtime/internal/lib/http-graceful-shutdown";
import { getGracefulShutdownConfig } from "nitropack/runtime/internal/shutdown";
import type { NitroApp } from "nitropack/types";
import { logError, logInfo, logWarn } from "./log.ts";

/**
 * The server once its settings have passed (server/entry.ts): importing this
 * module makes the app, which runs the plugins; `startServer` listens.
 *
 * On SIGTERM or SIGINT, Nitro's graceful shutdown stops accepting
 * connections, lets the requests under way finish (up to
 * NITRO_SHUTDOWN_TIMEOUT, 30 s by default), runs the plugins' `close` hooks
 * (the email worker finishes its delivery) and exits 0; the database closes
 * last, on exit (server/plugins/database.ts). The shutdown is Nitro's own,
 * set up here rather than through its `setupGracefulShutdown`, whose timeout
 * and hook failures print plain text: here they are log lines like any other.
 */
export function startServer(port: number, host: string | undefined): void {
  process.on("unhandledRejection", (error) => {
    logError("server", "unhandled rejection", error);
  });
  process.on("uncaughtException", (error) => {
    logError("server", "uncaught exception", error);
  });

  const nitroApp = useNitroApp();
  const server = new Server(toNodeListener(nitroApp.h3App));
  listen(server, port, host);
  setupShutdown(server, nitroApp);
}

function listen(server: Server, port: number, host: string | undefined): void {
  server.listen({ port, host }, () => {
    const { address, family, port: bound } = server.address() as AddressInfo;
    const shown = family === "IPv6" ? `[${address}]` : address;
    logInfo("server", `listening on http://${shown}:${bound}`);
  });
  server.on("error", (error) => {
    logError("server", "the server could not listen", error);
    process.exit(1);
  });
}

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
