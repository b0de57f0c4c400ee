import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRandomPort } from "get-port-please";
import {
  type EdgeNginxOptions,
  renderEdgeNginxConfig,
} from "../../scripts/edge-nginx.ts";
import { stopProcess } from "../../scripts/stack.ts";

/**
 * nginx with the edge configuration, on a loopback port, in a folder of its
 * own (config, pid, logs, temp files), in the foreground so that stopping the
 * child stops it. Debian's nginx lives outside PATH.
 */

export const NGINX_BINARY = process.env.NGINX_BINARY ?? "/usr/sbin/nginx";

export interface RunningNginx {
  /** "http://127.0.0.1:<port>", or https with TLS. */
  url: string;
  port: number;
  /** With TLS, the plain http port that redirects to https. */
  redirectPort?: number;
  runtimeDir: string;
  /** What nginx wrote to its error log so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

export function nginxAvailable(): boolean {
  return existsSync(NGINX_BINARY);
}

export async function startNginx(
  options: Omit<EdgeNginxOptions, "runtimeDir"> & { runtimeDir?: string },
): Promise<RunningNginx> {
  const runtimeDir = options.runtimeDir ?? mkdtempSync(join(tmpdir(), "tierwall-nginx-"));
  const host = options.listen?.host ?? "127.0.0.1";
  const port = options.listen?.port ?? (await getRandomPort(host));
  // Port 80 is not the test's to take: with TLS, the redirect gets a free one.
  const redirectPort =
    options.tls && options.redirectPort === undefined
      ? await getRandomPort(host)
      : options.redirectPort;
  const config = renderEdgeNginxConfig({
    ...options,
    listen: { host, port },
    redirectPort,
    runtimeDir,
    // Workers must read the dist files; as root they would otherwise run as nobody.
    user: options.user ?? (process.getuid?.() === 0 ? "root" : undefined),
  });
  const configPath = join(runtimeDir, "nginx.conf");
  writeFileSync(configPath, config, { mode: 0o600 });

  const errorPath = join(runtimeDir, "error.log");
  const child = spawn(
    NGINX_BINARY,
    ["-p", `${runtimeDir}/`, "-c", configPath, "-e", errorPath],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const scheme = options.tls ? "https" : "http";
  const running: RunningNginx = {
    url: `${scheme}://${host}:${port}`,
    port,
    redirectPort: redirectPort === false ? undefined : redirectPort,
    runtimeDir,
    errorLog: () => (existsSync(errorPath) ? readFileSync(errorPath, "utf8") : output),
    stop: async () => {
      await stopProcess(child);
      if (!options.runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
  await waitForPort(child, running, () => output);
  return running;
}

/** Resolves once nginx accepts connections on its port. */
async function waitForPort(
  child: ChildProcess,
  running: RunningNginx,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `nginx exited with ${child.exitCode}:\n${output()}${running.errorLog()}`,
      );
    }
    if (await canConnect(new URL(running.url).hostname, running.port)) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  await running.stop();
  throw new Error(`nginx did not listen within 10 s:\n${output()}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => {
      socket.destroy();
      done(false);
    });
  });
}
