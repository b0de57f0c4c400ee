import type { ClusterWrites } from "./serve-cluster.ts";
import type { Measurement } from "./serve-load.ts";

/**
 * The serving benchmark's report: one table row per route and connection
 * count, then the targets, each with what was measured. Targets are reported,
 * never asserted.
 */

export const ROWS = {
  nginx: "nginx, public page",
  public: "public page",
  gated: "gated, entitled",
  teaser: "gated, anonymous (teaser)",
  me: "/api/me, signed in",
} as const;

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

export function printTable(rows: readonly Measurement[]): void {
  const header = ["route", "conns", "req/s", "p50", "p99", "errors", "non-2xx"];
  header.push("bytes", "RSS", "CPU/req");
  const lines = rows.map((row) => [
    row.name,
    String(row.connections),
    String(row.requestsPerSecond),
    `${row.p50Ms} ms`,
    `${row.p99Ms} ms`,
    String(row.errors),
    String(row.non2xx),
    String(row.bytesPerAnswer),
    row.rssMb === null ? "" : `${row.rssMb} MB`,
    row.cpuMicrosPerRequest === null ? "" : `${row.cpuMicrosPerRequest} µs`,
  ]);
  printColumns([header, ...lines]);
}

export function printTargets(targets: readonly Target[]): void {
  const lines = targets.map((target) => [
    target.name,
    target.goal,
    target.measured,
    verdict(target),
  ]);
  printColumns([["target", "goal", "measured", ""], ...lines]);
}

function verdict(target: Target): string {
  if (target.met !== null) return target.met ? "met" : "MISSED";
  return target.goal === "reported" ? "" : "not measured";
}

function printColumns(rows: readonly string[][]): void {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  for (const row of rows) {
    console.log(row.map((cell, column) => cell.padEnd(widths?.[column] ?? 0)).join("  "));
  }
}

function find(rows: readonly Measurement[], name: string, connections: number) {
  return rows.find((row) => row.name === name && row.connections === connections);
}

function ratio(a: Measurement | undefined, b: Measurement | undefined): number | null {
  if (!a || !b || b.requestsPerSecond === 0) return null;
  return Number((a.requestsPerSecond / b.requestsPerSecond).toFixed(3));
}

/** A throughput ratio at each connection count, the lowest one judged. */
function ratioTarget(
  rows: readonly Measurement[],
  connections: readonly number[],
  spec: { name: string; top: string; bottom: string; min: number | null },
): Target {
  const ratios = connections.map((c) =>
    ratio(find(rows, spec.top, c), find(rows, spec.bottom, c)),
  );
  const known = ratios.filter((value): value is number => value !== null);
  const measured = connections
    .map((c, index) => `${ratios[index] ?? "–"} at ${c}`)
    .join(", ");
  const met =
    known.length === 0 || spec.min === null ? null : Math.min(...known) >= spec.min;
  return {
    name: spec.name,
    goal: spec.min === null ? "reported" : `≥ ${spec.min}`,
    measured,
    met,
  };
}

export interface TargetInput {
  rows: readonly Measurement[];
  connections: readonly number[];
  peakRssMb: number | null;
  serverRoutes: readonly string[];
  edgeRow: string | null;
  cluster: { row: string; writes: readonly ClusterWrites[] };
}

export function evaluateTargets(input: TargetInput): Target[] {
  const { rows, connections } = input;
  const top = Math.max(...connections);
  const targets = [
    ratioTarget(rows, connections, {
      name: "entitled gated ÷ public req/s",
      top: ROWS.gated,
      bottom: ROWS.public,
      min: 0.85,
    }),
  ];
  for (const route of input.serverRoutes) {
    const row = find(rows, route, top);
    targets.push({
      name: `p99 at ${top} conns, ${route}`,
      goal: "< 50 ms, no errors",
      measured: row ? `${row.p99Ms} ms, ${row.errors + row.non2xx} errors` : "–",
      met: row ? row.p99Ms < 50 && row.errors + row.non2xx === 0 : null,
    });
  }
  targets.push({
    name: "server peak memory (VmHWM)",
    goal: "< 200 MB",
    measured: input.peakRssMb === null ? "–" : `${input.peakRssMb} MB`,
    met: input.peakRssMb === null ? null : input.peakRssMb < 200,
  });
  targets.push(
    ratioTarget(rows, connections, {
      name: "server public ÷ nginx public req/s",
      top: ROWS.public,
      bottom: ROWS.nginx,
      min: null,
    }),
  );
  targets.push(
    ratioTarget(rows, connections, {
      name: "edge gated ÷ nginx public req/s",
      top: input.edgeRow ?? "(edge row not measured)",
      bottom: ROWS.nginx,
      min: 0.6,
    }),
  );
  targets.push(clusterTarget(input));
  return targets;
}

/** Under the cluster, with sign-ups all along: no failed answer, no lost write. */
function clusterTarget(input: TargetInput): Target {
  const { row, writes } = input.cluster;
  const loaded = input.rows.filter((each) => each.name === row);
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const pageErrors = sum(loaded.map((each) => each.errors + each.non2xx));
  const lost = sum(writes.map((each) => each.lost));
  const failed = sum(writes.map((each) => each.failed));
  const busy = sum(writes.map((each) => each.busyInLog));
  const stored = sum(writes.map((each) => each.stored));
  return {
    name: "cluster under writes",
    goal: "no errors, no lost write, no SQLITE_BUSY",
    measured:
      `${stored} sign-ups stored, ${lost} lost, ${failed + pageErrors} failed answers, ` +
      `${busy} busy`,
    met:
      writes.length === 0 ? null : lost + failed + pageErrors + busy === 0 && stored > 0,
  };
}
