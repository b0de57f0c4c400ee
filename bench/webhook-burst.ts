import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { defineCommand, runMain } from "citty";
import { getRandomPort } from "get-port-please";
import { startResendEmulator } from "../emulators/resend/index.ts";
import type { BurstReport } from "../emulators/stripe/burst.ts";
import { startStripeEmulator } from "../emulators/stripe/index.ts";
import {
  emulatorStripeClient,
  registerWebhook,
  runServerBuild,
  runSiteBuild,
  startServer,
} from "../scripts/stack.ts";
import {
  BURST_MIX,
  type BurstOptions,
  type BurstTarget,
  burst,
  seedBurst,
  type Verdict,
  verifyExactlyOnce,
} from "./webhook-burst-scenario.ts";

/**
 * `npm run bench:webhooks`: a burst of signed Stripe events at the built
 * server. It builds the site and server, starts them on a fresh SQLite file
 * beside the Stripe and Resend emulators (as the integration tests do), gives
 * 200 readers subscriptions across the tiers, changes most of them, and has
 * the emulator send 1,000 events about them (some twice at once, a fifth of a
 * type Tierwall ignores) with 32 in flight. It prints throughput and latency,
 * then checks that every event was applied exactly once and that the stored
 * subscriptions equal Stripe's; the exit code is non-zero when they are not.
 */

function wholeNumber(value: string, flag: string): number {
  const number = Number(value);
  if (Number.isInteger(number) && number >= 0) return number;
  throw new Error(`[bench] --${flag} must be a whole number, got "${value}"`);
}

/** Site and server builds in `workDir`, made unless a kept folder holds them. */
async function prepareBuilds(workDir: string) {
  const distDir = path.join(workDir, "dist");
  const outputDir = path.join(workDir, "output");
  if (!existsSync(path.join(outputDir, "server/index.mjs"))) {
    console.log("[bench] building site and server…");
    await Promise.all([
      runSiteBuild(distDir),
      runServerBuild(outputDir, path.join(workDir, "nitro")),
    ]);
  }
  return { distDir, outputDir };
}

/** CPU seconds a process has used (user + system), from /proc; null elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU milliseconds per event of the server and of this process (the emulator). */
async function measureCpu<T>(
  serverPid: number | undefined,
  events: number,
  work: () => Promise<T>,
) {
  const serverBefore = cpuSecondsOf(serverPid);
  const ownBefore = process.cpuUsage();
  const result = await work();
  const serverAfter = cpuSecondsOf(serverPid);
  const own = process.cpuUsage(ownBefore);
  const perEvent = (seconds: number) => Math.round((seconds * 10_000) / events) / 10;
  const cpu = {
    serverMsPerEvent:
      serverBefore === null || serverAfter === null
        ? null
        : perEvent(serverAfter - serverBefore),
    emulatorMsPerEvent: perEvent((own.user + own.system) / 1e6),
  };
  return { result, cpu };
}

async function startBurstStack(workDir: string, stops: (() => Promise<void>)[]) {
  const { distDir, outputDir } = await prepareBuilds(workDir);
  const stripeEmulator = await startStripeEmulator();
  stops.push(() => stripeEmulator.close());
  const resendEmulator = await startResendEmulator();
  stops.push(() => resendEmulator.close());

  const stripe = emulatorStripeClient(stripeEmulator.url);
  const port = await getRandomPort("127.0.0.1");
  const baseUrl = `http://127.0.0.1:${port}`;
  const webhookUrl = `${baseUrl}/api/stripe/webhook`;
  const databasePath = path.join(workDir, `tierwall-${Date.now()}.db`);
  const server = await startServer(outputDir, {
    PORT: String(port),
    HOST: "127.0.0.1",
    SITE_URL: baseUrl,
    DATABASE_PATH: databasePath,
    DIST_DIR: distDir,
    STRIPE_API_BASE: stripeEmulator.url,
    STRIPE_SECRET_KEY: "sk_test_tierwall_offline",
    STRIPE_WEBHOOK_SECRET: await registerWebhook(stripe, webhookUrl),
    RESEND_BASE_URL: resendEmulator.url,
    RESEND_API_KEY: "re_test_tierwall_offline",
  });
  stops.push(() => server.stop());
  const target: BurstTarget & { serverPid: number | undefined } = {
    serverPid: server.child.pid,
    stripe,
    stripeUrl: stripeEmulator.url,
    webhookUrl,
    databasePath,
    serverOutput: () => server.output(),
  };
  return target;
}

type Cpu = { serverMsPerEvent: number | null; emulatorMsPerEvent: number };

function printTable(report: BurstReport, verdict: Verdict, cpu: Cpu): void {
  const seconds = (report.duration_ms / 1000).toFixed(2);
  const rows: [string, string][] = [
    ["events (deliveries)", `${report.events} (${report.deliveries})`],
    [
      "duplicates / ignored types",
      `${report.duplicates} / ${verdict.checked.ignoredEvents}`,
    ],
    ["concurrency", String(report.concurrency)],
    ["first send → last 2xx", `${seconds} s`],
    ["events per second", String(report.events_per_second)],
    ["latency p50 / p99 / max", latency(report)],
    [
      "CPU per event: server / emulator",
      `${cpu.serverMsPerEvent ?? "?"} / ${cpu.emulatorMsPerEvent} ms`,
    ],
    ["non-2xx answers", String(report.non_2xx)],
    ["connection errors", String(report.connection_errors)],
    ["retries", String(report.retries)],
    ["failed for good", String(report.failed)],
    [
      "recorded / handled events",
      `${verdict.checked.recorded} / ${verdict.checked.handledEvents}`,
    ],
    [
      "applied / found applied (log)",
      `${verdict.checked.appliedLogLines} / ${verdict.checked.duplicateLogLines}`,
    ],
    ["subscriptions equal to Stripe's", String(verdict.checked.subscriptions)],
    ["emails in the outbox", String(verdict.checked.emails)],
    ["exactly once", verdict.ok ? "yes" : "NO"],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
}

function latency(report: BurstReport): string {
  const { p50, p99, max } = report.latency_ms;
  return `${p50} / ${p99} / ${max} ms`;
}

const main = defineCommand({
  meta: { name: "bench:webhooks", description: "A webhook burst, applied exactly once" },
  args: {
    customers: {
      type: "string",
      default: "200",
      description: "readers with a subscription",
    },
    events: { type: "string", default: "1000", description: "events in the burst" },
    duplicates: {
      type: "string",
      default: "100",
      description: "events sent twice at once",
    },
    concurrency: { type: "string", default: "32", description: "deliveries in flight" },
    "work-dir": { type: "string", description: "keep builds here and reuse them" },
  },
  async run({ args }) {
    const options: BurstOptions = {
      customers: wholeNumber(args.customers, "customers"),
      events: wholeNumber(args.events, "events"),
      duplicates: wholeNumber(args.duplicates, "duplicates"),
      concurrency: wholeNumber(args.concurrency, "concurrency"),
    };
    const workDir = args["work-dir"]
      ? path.resolve(args["work-dir"])
      : await mkdtemp(path.join(tmpdir(), "tierwall-webhook-burst-"));
    const stops: (() => Promise<void>)[] = [];
    try {
      const target = await startBurstStack(workDir, stops);
      const seeded = await seedBurst(target, options);
      console.log(`[bench] ${options.customers} readers subscribed; sending the burst…`);
      const { result: report, cpu } = await measureCpu(
        target.serverPid,
        options.events,
        () =>
          burst(target.stripeUrl, {
            count: options.events,
            mix: BURST_MIX,
            duplicates: options.duplicates,
            concurrency: options.concurrency,
          }),
      );
      const verdict = await verifyExactlyOnce(target, report, seeded);

      console.log("");
      printTable(report, verdict, cpu);
      for (const problem of verdict.problems) console.error(`[bench] ${problem}`);
      const { event_ids: _, ...shown } = report;
      const summary = {
        cores: availableParallelism(),
        ...options,
        report: shown,
        cpu,
        verdict,
      };
      console.log(`\n${JSON.stringify(summary)}`);
      if (!verdict.ok) process.exitCode = 1;
    } finally {
      for (const stop of stops.reverse()) await stop();
      if (!args["work-dir"]) await rm(workDir, { recursive: true, force: true });
    }
  },
});

runMain(main);
