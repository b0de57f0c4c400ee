import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { stopProcess } from "../scripts/stack.ts";

/**
 * nginx serving the public bundle, the ceiling the Node server is compared
 * with. One worker process, like the one Node process it is measured against,
 * on loopback, without access logs. Debian's nginx, not on PATH.
 */

export const NGINX_BINARY = "/usr/sbin/nginx";
export const NGINX_WORKERS = 1;

export interface NginxProcess {
  child: ChildProcess;
  url: string;
  /** The worker's pid, whose memory is worth watching. */
  workerPid: number | undefined;
  stop(): Promise<void>;
}

export interface NginxSite {
  /** Folder for the config, pid file, logs and nginx's temp folders. */
  prefix: string;
  port: number;
  /** The folder served at `/` (the resolved `public/` of a build). */
  root: string;
}

/** The config: static files from `root`, `index.html` for a directory. */
export function renderStaticConfig(site: NginxSite): string {
  return `${configHead(site)}
http {
  ${httpBasics(site.prefix)}
  server {
    listen 127.0.0.1:${site.port};
    root ${site.root};
    location / {
      try_files $uri $uri/index.html =404;
    }
  }
}
`;
}

/**
 * The parts every config the benchmark starts shares: no daemon, everything
 * in the prefix, and (running as root) workers that run as root too, so they
 * can read files in a temp folder another user may not enter.
 */
export function configHead(site: Pick<NginxSite, "prefix">): string {
  return `daemon off;
worker_processes ${NGINX_WORKERS};
user root;
pid ${path.join(site.prefix, "nginx.pid")};
error_log ${path.join(site.prefix, "error.log")} warn;
events { worker_connections 4096; }`;
}

export function httpBasics(prefix: string): string {
  return `access_log off;
  types { text/html html; text/css css; application/javascript js; image/svg+xml svg; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${path.join(prefix, "client-body")};
  proxy_temp_path ${path.join(prefix, "proxy")};
  fastcgi_temp_path ${path.join(prefix, "fastcgi")};
  uwsgi_temp_path ${path.join(prefix, "uwsgi")};
  scgi_temp_path ${path.join(prefix, "scgi")};`;
}

/** Starts nginx on `config` and waits until it answers at `probePath`. */
export async function startNginx(
  prefix: string,
  port: number,
  config: string,
  probePath = "/",
): Promise<NginxProcess> {
  await mkdir(prefix, { recursive: true });
  const configPath = path.join(prefix, "nginx.conf");
  await writeFile(configPath, config);

  const args = ["-p", prefix, "-e", path.join(prefix, "error.log"), "-c", configPath];
  const child = spawn(NGINX_BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });

  const url = `http://127.0.0.1:${port}`;
  await waitForAnswer(`${url}${probePath}`, child, () => errors);
  const workerPid = await findWorkerPid(child.pid);
  return { child, url, workerPid, stop: () => stopProcess(child) };
}

async function waitForAnswer(
  url: string,
  child: ChildProcess,
  errors: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`[bench] nginx exited with ${child.exitCode}:\n${errors()}`);
    }
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`[bench] nginx did not answer at ${url}:\n${errors()}`);
}

/** nginx's one worker, a child of the master we started. */
async function findWorkerPid(masterPid: number | undefined): Promise<number | undefined> {
  if (masterPid === undefined) return undefined;
  try {
    const children = await readFile(
      `/proc/${masterPid}/task/${masterPid}/children`,
      "utf8",
    );
    const first = children.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
