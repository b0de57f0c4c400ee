import { readFile } from "node:fs/promises";
import autocannon from "autocannon";

/**
 * Drives one route with autocannon and watches the serving process's memory
 * while it does. A route is a path plus, for signed-in rows, the session
 * cookies to rotate through (one per request, so the server looks up many
 * readers rather than one hot row).
 */

export interface Target {
  /** Row label, e.g. "gated, entitled". */
  name: string;
  baseUrl: string;
  path: string;
  /** Cookie header values; each request takes the next. */
  cookies?: readonly string[];
  /** Process whose memory is sampled, when it is ours to watch. */
  pid?: number;
}

export interface Measurement {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  requests: number;
  /** Bytes of each answer, on average. */
  bytesPerAnswer: number;
  /** Highest resident memory seen while this load ran, in MB. */
  rssMb: number | null;
  /**
   * CPU time the serving process spent per answer, in microseconds: less
   * sensitive than req/s to other work on a shared machine.
   */
  cpuMicrosPerRequest: number | null;
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export async function measureTarget(
  target: Target,
  options: LoadOptions,
): Promise<Measurement> {
  if (options.warmupSeconds > 0) {
    await runAutocannon(target, options.connections, options.warmupSeconds);
  }
  const sampler = startMemorySampler(target.pid);
  const cpuBefore = await readCpuMicros(target.pid);
  const result = await runAutocannon(
    target,
    options.connections,
    options.durationSeconds,
  );
  const cpuAfter = await readCpuMicros(target.pid);
  const rssMb = await sampler.stop();
  const cpuMicros = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  const requests = Math.max(1, result.requests.total);

  return {
    name: target.name,
    connections: options.connections,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
    bytesPerAnswer: Math.round(
      result.throughput.total / Math.max(1, result.requests.total),
    ),
    rssMb,
    cpuMicrosPerRequest: cpuMicros === null ? null : Math.round(cpuMicros / requests),
  };
}

/**
 * The cookies ride in prebuilt requests that each connection cycles through.
 * (A `setupRequest` callback would rebuild every request in the load
 * generator, which shares this machine's cores with the server and would
 * slow the signed-in rows for reasons of its own.)
 */
function runAutocannon(
  target: Target,
  connections: number,
  durationSeconds: number,
): Promise<autocannon.Result> {
  const cookies = target.cookies ?? [];
  return autocannon({
    url: `${target.baseUrl}${target.path}`,
    connections,
    duration: durationSeconds,
    timeout: 10,
    requests:
      cookies.length > 0 ? cookies.map((cookie) => ({ headers: { cookie } })) : [{}],
  });
}

/** The peak of the process's resident memory since it started, in MB. */
export async function readPeakRssMb(pid: number): Promise<number | null> {
  return readStatusMb(pid, "VmHWM");
}

async function readStatusMb(pid: number, field: string): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** User and system CPU time of the process so far, in microseconds. */
async function readCpuMicros(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / CLOCK_TICKS_PER_SECOND) * 1_000_000;
  } catch {
    return null;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples VmRSS every 200 ms; `stop` returns the highest value seen. */
function startMemorySampler(pid: number | undefined): { stop(): Promise<number | null> } {
  if (pid === undefined) return { stop: async () => null };

  let peak: number | null = null;
  const sample = async (): Promise<void> => {
    const rss = await readStatusMb(pid, "VmRSS");
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
  };
  const timer = setInterval(() => void sample(), 200);
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      return peak;
    },
  };
}
