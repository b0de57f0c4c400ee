import { randomBytes } from "node:crypto";
import { edgeCookieHeader, renderEdgeNginxConfig } from "../scripts/edge-nginx.ts";
import config from "../tierwall.config.ts";
import { type LoadOptions, type Measurement, measureTarget } from "./serve-load.ts";
import { NGINX_WORKERS, type NginxProcess, startNginx } from "./serve-nginx.ts";
import type { RunningServer } from "./serve-setup.ts";

/**
 * The row "gated page via the edge": nginx in front of the Tierwall server
 * (scripts/edge-nginx.ts), serving a gated page itself to a reader whose signed
 * edge cookies it checks, with no Node work per request. Its target is at least
 * 0.6× nginx's own throughput on the public page. The server behind it runs
 * with EDGE_COOKIE_SECRET, as an edge deployment does; it is a second process,
 * so the other rows measure a server without the edge.
 */

export const EDGE_ROW = "gated, entitled, via the edge";

export interface EdgeContext {
  /** Folder for the edge nginx's config, logs and pid file. */
  prefix: string;
  port: number;
  /** The DIST_DIR symlink the server serves. */
  distDir: string;
  gatedPath: string;
  /** Bytes of the gated page's full text, to check nginx sends it. */
  gatedBytes: number;
  /** The entitled readers' tier. */
  tier: string;
  /** The entitled readers' session cookie pairs. */
  sessionCookies: readonly string[];
  /** Starts another Tierwall server with extra environment. */
  startServer(env: Record<string, string>): Promise<RunningServer>;
}

export type EdgeRow =
  | {
      kind: "ready";
      measure(load: LoadOptions): Promise<Measurement>;
      stop(): Promise<void>;
    }
  | { kind: "skipped"; reason: string };

export async function prepareEdge(context: EdgeContext): Promise<EdgeRow> {
  const secret = randomBytes(32).toString("base64url");
  const server = await context.startServer({ EDGE_COOKIE_SECRET: secret });
  let nginx: NginxProcess;
  try {
    nginx = await startNginx(
      context.prefix,
      context.port,
      edgeConfig(context, server, secret),
    );
  } catch (error) {
    await server.stop();
    return { kind: "skipped", reason: `the edge nginx did not start: ${String(error)}` };
  }
  const stop = async () => {
    await nginx.stop();
    await server.stop();
  };

  // Checked without the session, so that only nginx can be the one answering
  // with the full page; loaded with it, as a reader's browser sends both.
  const edgeOnly = readerCookies(secret, context.tier);
  const page = `${nginx.url}${context.gatedPath}`;
  const problem = await checkEdgePage(page, edgeOnly, context.gatedBytes);
  const cookies = context.sessionCookies.map((session) => `${session}; ${edgeOnly}`);
  if (problem) {
    await stop();
    return { kind: "skipped", reason: problem };
  }
  const target = {
    name: EDGE_ROW,
    baseUrl: nginx.url,
    path: context.gatedPath,
    cookies,
    pid: nginx.workerPid,
  };
  return { kind: "ready", measure: (load) => measureTarget(target, load), stop };
}

function edgeConfig(context: EdgeContext, server: RunningServer, secret: string): string {
  return renderEdgeNginxConfig({
    distDir: context.distDir,
    upstream: server.url,
    secret,
    listen: { host: "127.0.0.1", port: context.port },
    runtimeDir: context.prefix,
    user: "root",
    workerProcesses: NGINX_WORKERS,
    accessLog: false,
  });
}

/** The edge cookies of a reader of `tier`: one per paid tier up to theirs. */
function readerCookies(secret: string, tier: string): string {
  const ids = config.tiers.map((each) => each.id);
  const paid = ids.slice(1, ids.indexOf(tier) + 1);
  return paid
    .map((each) => edgeCookieHeader({ secret, tier: each, ttlSeconds: 3600 }))
    .join("; ");
}

async function checkEdgePage(
  url: string,
  cookie: string,
  bytes: number,
): Promise<string | null> {
  const response = await fetch(url, { headers: { cookie } });
  const length = Buffer.byteLength(await response.text());
  if (response.status === 200 && length === bytes) return null;
  return `the edge answered ${response.status} with ${length} bytes, not the full page (${bytes} bytes)`;
}
