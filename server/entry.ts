// A virtual module that Nitro's bundler fills in (empty for Node).
import "#nitro-internal-pollyfills";
import { setFlagsFromString } from "node:v8";
import { isHttpUrl } from "../lib/site-url.ts";

/**
 * The server process: Nitro's Node server, started so that every line it
 * prints is a JSON log line (see server/log.ts).
 *
 * A setting that would stop the start stops it with one log line naming it:
 * the port, SITE_URL and NITRO_SHUTDOWN_TIMEOUT here, the rest as the app is
 * made (server/plugins/00.settings.ts, and the database in its plugin).
 *
 * IMPORTANT: this file imports nothing of the app (lib/site-url.ts imports
 * nothing itself). The bundler puts the app, the log and tierwall.config.ts
 * (which reads SITE_URL as it loads) in one chunk, and a module that fails as
 * it loads prints a plain stack trace: so the app (server/start.ts) is
 * imported only once SITE_URL has passed, and a failure to load it is caught
 * here.
 */

// What the server keeps between requests is small (about 20 MB of heap with a
// 5,000-post manifest), but under load each request leaves a few KB in the
// old generation, and V8's default lets the heap grow to several times what
// is live before it collects it (124 MB of heap holding 20 MB, measured at
// 8,000 requests a second). Collecting once the heap has grown a fifth keeps
// the peak near what is live, for a few milliseconds of (mostly concurrent)
// marking per second. `npm run bench:serve` measures both. Set before the app
// exists, so that every collection uses it.
setFlagsFromString("--heap-growing-percent=20");

let port = 0;
try {
  port = readPort(process.env);
  checkSiteUrl(process.env.SITE_URL);
  checkShutdownTimeout(process.env.NITRO_SHUTDOWN_TIMEOUT);
} catch (error) {
  refuseStart(error, false);
}
const host = process.env.NITRO_HOST || process.env.HOST;

import("./start.ts").then(
  ({ startServer }) => startServer(port, host),
  // In full: an app that fails to load is most often not a mistyped setting.
  (error: unknown) => refuseStart(error, true),
);

/** NITRO_PORT or PORT (3000 when neither is set): a port number, 0 for any free one. */
function readPort(env: NodeJS.ProcessEnv): number {
  const name = env.NITRO_PORT ? "NITRO_PORT" : "PORT";
  const raw = (env[name] ?? "").trim();
  if (raw === "") return 3000;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new Error(`${name} must be a port number from 0 to 65535, not "${raw}"`);
  }
  return Number(raw);
}

/** SITE_URL, when set, is the address readers use: scheme and host included. */
function checkSiteUrl(value: string | undefined): void {
  if (value === undefined || isHttpUrl(value)) return;
  throw new Error(
    `SITE_URL must be an absolute http or https URL such as ` +
      `https://stacker.example, not "${value}"`,
  );
}

/**
 * Nitro reads NITRO_SHUTDOWN_TIMEOUT itself, and turns anything it cannot
 * read into its default: here a mistyped one stops the start instead.
 */
function checkShutdownTimeout(value: string | undefined): void {
  const raw = (value ?? "").trim();
  if (raw === "" || (/^\d+$/.test(raw) && Number(raw) > 0)) return;
  throw new Error(
    `NITRO_SHUTDOWN_TIMEOUT must be a whole number of milliseconds above 0, not "${raw}"`,
  );
}

/**
 * The one line that stops the start, as server/log.ts would write it (the log
 * loads with the app, which may be what failed).
 */
function refuseStart(error: unknown, withStack: boolean): never {
  const message = error instanceof Error ? error.message : String(error);
  const line: Record<string, unknown> = {
    time: new Date().toISOString(),
    level: "error",
    area: "server",
    pid: process.pid,
    message: `cannot start: ${message}`,
  };
  if (withStack && error instanceof Error) {
    line.error = { name: error.name, message, stack: error.stack };
  }
  console.error(JSON.stringify(line));
  process.exit(1);
}
