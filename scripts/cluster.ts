import cluster, { type Worker } from "node:cluster";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { defineCommand, runMain } from "citty";
import { logError, logInfo, logWarn } from "../server/log.ts";
import { OperatorError, operatorRun, rejectUnknownArgs } from "./operator.ts";

/**
 * `npm run start:cluster`: the built server in one process per core, all on
 * one port and one SQLite database. Node's cluster module hands each incoming
 * connection to a worker.
 *
 * - TIERWALL_WORKERS (or WEB_CONCURRENCY) sets the number of workers; the
 *   default is the number of cores available.
 * - The first worker starts alone and applies pending migrations; the others
 *   start once it listens, so two processes never migrate at once.
 * - SIGTERM or SIGINT to this process is passed to every worker, which shuts
 *   down gracefully (see server/entry.ts); this process exits when they have,
 *   0 if all of them exited cleanly.
 * - A worker that dies is replaced, except during shutdown. Workers that die
 *   before listening, several times in a row, stop the whole cluster with
 *   exit code 1: a broken build or database will not heal by restarting.
 */

interface ClusterOptions {
  entry: string;
  workers: number;
}

/** Workers that die before listening, in a row, before the cluster gives up. */
const MAX_START_FAILURES = 3;

export function readWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const name = env.TIERWALL_WORKERS?.trim() ? "TIERWALL_WORKERS" : "WEB_CONCURRENCY";
  const raw = env[name]?.trim();
  if (!raw) return availableParallelism();
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1) {
    throw new OperatorError(`${name} must be a whole number above 0, not "${raw}"`);
  }
  return count;
}

export function runCluster(options: ClusterOptions): void {
  cluster.setupPrimary({
    exec: options.entry,
    args: [],
    execArgv: nodeFlagsForWorkers(),
  });
  const state: ClusterState = {
    live: new Set(),
    listened: new WeakSet(),
    othersStarted: false,
    stopping: false,
    startFailures: 0,
    failed: false,
  };
  const fork = (): void => {
    if (!state.stopping) state.live.add(cluster.fork());
  };

  cluster.on("listening", (worker) => {
    state.listened.add(worker);
    state.startFailures = 0;
    logInfo("server", `worker ${worker.process.pid} listening`);
    if (state.othersStarted) return;
    // The first worker has migrated the database: the rest may start.
    state.othersStarted = true;
    for (let index = 1; index < options.workers; index++) fork();
  });
  cluster.on("exit", (worker, code, signal) => {
    state.live.delete(worker);
    onWorkerExit(worker, { code, signal }, state, fork);
  });

  onShutdownSignal((signal) => stopWorkers(state, signal));
  logInfo("server", `starting ${options.workers} worker(s) of ${options.entry}`);
  fork();
}

interface ClusterState {
  live: Set<Worker>;
  listened: WeakSet<Worker>;
  othersStarted: boolean;
  stopping: boolean;
  /** Workers in a row that died before they listened. */
  startFailures: number;
  /** A worker did not exit cleanly during shutdown, or the cluster gave up. */
  failed: boolean;
}

interface WorkerExit {
  code: number | null;
  signal: string | null;
}

function onWorkerExit(
  worker: Worker,
  exit: WorkerExit,
  state: ClusterState,
  fork: () => void,
): void {
  const pid = worker.process.pid;
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;

  if (state.stopping) {
    if (exit.code !== 0) state.failed = true;
    logInfo("server", `worker ${pid} exited (${how})`);
    if (state.live.size === 0) finish(state);
    return;
  }

  if (!state.listened.has(worker)) state.startFailures++;
  if (state.startFailures >= MAX_START_FAILURES) {
    logError("server", `workers keep dying before they listen (last: ${how}); giving up`);
    state.failed = true;
    stopWorkers(state, "SIGTERM");
    return;
  }

  logWarn("server", `worker ${pid} died (${how}); starting another`);
  setTimeout(fork, 250 * state.startFailures);
}

function stopWorkers(state: ClusterState, signal: NodeJS.Signals): void {
  if (!state.stopping) logInfo("server", `${signal}: stopping the workers`);
  state.stopping = true;
  if (state.live.size === 0) finish(state);
  for (const worker of state.live) worker.process.kill(signal);
}

function finish(state: ClusterState): void {
  logInfo("server", state.failed ? "stopped, not cleanly" : "stopped");
  process.exit(state.failed ? 1 : 0);
}

function onShutdownSignal(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, handler);
}

/**
 * Node flags for the workers: this process's own, without the TypeScript
 * loader it may run under. The workers run the built server, plain JavaScript.
 */
function nodeFlagsForWorkers(): string[] {
  const flags: string[] = [];
  const own = process.execArgv;
  for (let index = 0; index < own.length; index++) {
    const flag = own[index] ?? "";
    const next = own[index + 1] ?? "";
    if ((flag === "--import" || flag === "--require") && next.includes("tsx")) index++;
    else if (!flag.includes("tsx")) flags.push(flag);
  }
  return flags;
}

function defaultEntry(): string {
  return resolve(process.env.TIERWALL_OUTPUT_DIR ?? ".output", "server/index.mjs");
}

const main = defineCommand({
  meta: {
    name: "start:cluster",
    description: "Runs the built server in one process per core.",
  },
  args: {
    entry: {
      type: "string",
      description: "The built server (default .output/server/index.mjs)",
    },
  },
  run: operatorRun(
    ({ args, rawArgs }: { args: { entry?: string }; rawArgs: string[] }) => {
      rejectUnknownArgs(rawArgs, { options: ["entry"], positionals: 0 });
      const entry = resolve(args.entry ?? defaultEntry());
      if (!existsSync(entry)) {
        throw new OperatorError(
          `There is no built server at ${entry}. Run npm run build.`,
        );
      }
      runCluster({ entry, workers: readWorkerCount() });
    },
  ),
});

if (cluster.isPrimary) void runMain(main);
