import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineCommand, runMain } from "citty";
import config from "../tierwall.config.ts";
import {
  generatePosts,
  writePlainContent,
  writeTierwallContent,
} from "./generate-posts.ts";
import type { BuildMeasurement } from "./run-build.ts";

/**
 * `npm run bench:build`: what the Tierwall plugin costs on a large publication.
 * It generates one (5,000 posts by default), then builds it in turns with the
 * Tierwall build (theme, plugin, leak scan, atomic swap: `buildSite`) and with
 * plain Eleventy and the same theme (bench/plain-eleventy.config.ts says what
 * that baseline includes). Each build runs in a fresh process, so its peak
 * memory is its own. Timings are reported, never judged: the exit code is
 * non-zero only when a build fails.
 */

type Kind = BuildMeasurement["kind"];

interface Run extends BuildMeasurement {
  /** Process wall time, Node's start-up included. */
  processMs: number;
  pages: number;
}

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const runBuildScript = fileURLToPath(new URL("./run-build.ts", import.meta.url));

function positiveInteger(value: string, flag: string): number {
  const number = Number(value);
  if (Number.isInteger(number) && number > 0) return number;
  throw new Error(`[bench] --${flag} must be a positive whole number, got "${value}"`);
}

/** Starts one measured build and waits for its one-line report. */
function runBuild(kind: Kind, contentDir: string, outDir: string, profileDir?: string) {
  const nodeArgs = ["--import", "tsx"];
  if (profileDir) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
  const args = [runBuildScript, "--kind", kind, "--content", contentDir, "--out", outDir];
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });

  const output: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => errors.push(chunk));
  const started = performance.now();

  return new Promise<BuildMeasurement & { processMs: number }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const processMs = performance.now() - started;
      const lastLine = Buffer.concat(output).toString().trim().split("\n").at(-1) ?? "";
      if (code !== 0) {
        const detail = Buffer.concat(errors).toString().trim() || lastLine;
        reject(new Error(`[bench] the ${kind} build failed (exit ${code}):\n${detail}`));
        return;
      }
      resolve({ ...(JSON.parse(lastLine) as BuildMeasurement), processMs });
    });
  });
}

/** HTML pages a build produced, so the table shows both builds made the same site. */
async function countPages(root: string): Promise<number> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith(".html")).length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface Summary {
  medianMs: number;
  medianProcessMs: number;
  medianCpuMs: number;
  peakRssMb: number;
  pages: number;
  runsMs: number[];
}

function summarise(runs: readonly Run[]): Summary {
  return {
    medianMs: Math.round(median(runs.map((run) => run.ms))),
    medianProcessMs: Math.round(median(runs.map((run) => run.processMs))),
    medianCpuMs: Math.round(median(runs.map((run) => run.cpuMs))),
    peakRssMb: Math.round(Math.max(...runs.map((run) => run.maxRssKb)) / 1024),
    pages: Math.max(...runs.map((run) => run.pages)),
    runsMs: runs.map((run) => Math.round(run.ms)),
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function printTable(tierwall: Summary, plain: Summary): void {
  const rows = [
    ["", "Tierwall", "plain Eleventy", "ratio"],
    [
      "build wall time (median)",
      seconds(tierwall.medianMs),
      seconds(plain.medianMs),
      `${(tierwall.medianMs / plain.medianMs).toFixed(2)}×`,
    ],
    [
      "process wall time (median)",
      seconds(tierwall.medianProcessMs),
      seconds(plain.medianProcessMs),
      `${(tierwall.medianProcessMs / plain.medianProcessMs).toFixed(2)}×`,
    ],
    [
      "CPU time, user + system (median)",
      seconds(tierwall.medianCpuMs),
      seconds(plain.medianCpuMs),
      `${(tierwall.medianCpuMs / plain.medianCpuMs).toFixed(2)}×`,
    ],
    [
      "peak RSS (highest run)",
      `${tierwall.peakRssMb} MB`,
      `${plain.peakRssMb} MB`,
      `${(tierwall.peakRssMb / plain.peakRssMb).toFixed(2)}×`,
    ],
    ["HTML pages written", String(tierwall.pages), String(plain.pages), ""],
    [
      "each run",
      tierwall.runsMs.map(seconds).join(", "),
      plain.runsMs.map(seconds).join(", "),
      "",
    ],
  ];
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  for (const row of rows) {
    console.log(row.map((cell, column) => cell.padEnd(widths?.[column] ?? 0)).join("  "));
  }
}

async function generate(workDir: string, count: number, seed: number) {
  const posts = generatePosts({ count, seed, tiers: config.tiers });
  const tierwallContent = path.join(workDir, "content-tierwall");
  const plainContent = path.join(workDir, "content-plain");
  await writeTierwallContent(tierwallContent, posts);
  await writePlainContent(plainContent, posts, config.tiers);

  const perTier = config.tiers.map(
    (tier) => `${posts.filter((post) => post.tier === tier.id).length} ${tier.id}`,
  );
  console.log(`[bench] ${count} posts (${perTier.join(", ")}) in ${workDir}`);
  return { tierwall: tierwallContent, plain: plainContent };
}

/** One build, measured, then its output counted and removed to keep the disk tidy. */
async function measure(
  kind: Kind,
  contentDir: string,
  outDir: string,
  profileDir: string | undefined,
): Promise<Run> {
  const result = await runBuild(kind, contentDir, outDir, profileDir);
  const pages = await countPages(outDir);
  await rm(path.dirname(outDir), { recursive: true, force: true });
  console.log(
    `[bench] ${kind.padEnd(8)} ${seconds(result.ms)}, ` +
      `${Math.round(result.maxRssKb / 1024)} MB peak, ${pages} pages`,
  );
  return { ...result, pages };
}

const main = defineCommand({
  meta: {
    name: "bench:build",
    description:
      "Time the Tierwall build against plain Eleventy on a generated publication",
  },
  args: {
    posts: { type: "string", default: "5000", description: "Posts to generate" },
    rounds: { type: "string", default: "3", description: "Builds of each kind" },
    seed: { type: "string", default: "1", description: "Seed of the generated prose" },
    keep: { type: "boolean", description: "Keep the generated publication" },
    "cpu-prof-dir": { type: "string", description: "Write V8 CPU profiles here" },
  },
  async run({ args }) {
    const count = positiveInteger(args.posts, "posts");
    const rounds = positiveInteger(args.rounds, "rounds");
    const seed = positiveInteger(args.seed, "seed");
    const profileDir = args["cpu-prof-dir"] && path.resolve(args["cpu-prof-dir"]);
    const workDir = await mkdtemp(path.join(tmpdir(), "tierwall-bench-"));
    const machine = {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? "unknown",
      node: process.version,
    };
    // Other work on the machine slows both builds; the load says how much there was.
    const load = loadavg()[0]?.toFixed(2);
    console.log(
      `[bench] ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load ${load}`,
    );

    try {
      const content = await generate(workDir, count, seed);
      const runs: Record<Kind, Run[]> = { tierwall: [], plain: [] };

      // Alternate which build goes first, so drift in the machine's load
      // (other processes, file cache, CPU heat) falls on both alike.
      for (let round = 1; round <= rounds; round++) {
        const order: Kind[] = round % 2 ? ["tierwall", "plain"] : ["plain", "tierwall"];
        for (const kind of order) {
          const outDir = path.join(workDir, `out-${kind}-${round}`, "dist");
          await mkdir(path.dirname(outDir), { recursive: true });
          runs[kind].push(await measure(kind, content[kind], outDir, profileDir));
        }
      }

      const tierwall = summarise(runs.tierwall);
      const plain = summarise(runs.plain);
      console.log("");
      printTable(tierwall, plain);
      const ratio = Number((tierwall.medianMs / plain.medianMs).toFixed(3));
      const summary = {
        bench: "build",
        posts: count,
        rounds,
        ...machine,
        tierwall,
        plain,
        ratio,
      };
      console.log(`\n${JSON.stringify(summary)}`);
    } finally {
      if (args.keep) console.log(`[bench] kept ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    }
  },
});

runMain(main);
