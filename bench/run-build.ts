import path from "node:path";
import { fileURLToPath } from "node:url";
import Eleventy from "@11ty/eleventy";
import { defineCommand, runMain } from "citty";
import { buildSite } from "../plugin/build.ts";

/**
 * One build in a process of its own, so that its peak memory is its own: the
 * build benchmark (bench/build.ts) starts this once per build and reads the
 * last line it prints, `{ "kind", "ms", "cpuMs", "maxRssKb" }`. Peak memory counts
 * every thread of the process, the leak scan's workers included.
 */

const plainConfig = fileURLToPath(new URL("./plain-eleventy.config.ts", import.meta.url));

export interface BuildMeasurement {
  kind: "tierwall" | "plain";
  /** Wall time of the build itself, config loading included. */
  ms: number;
  /** CPU time (user and system, all threads) the build itself used. */
  cpuMs: number;
  /** Peak resident memory of this process. */
  maxRssKb: number;
}

async function buildPlain(contentDir: string, outputDir: string): Promise<void> {
  const eleventy = new Eleventy(contentDir, outputDir, {
    configPath: plainConfig,
    quietMode: true,
  });
  eleventy.disableLogger();
  await eleventy.write();
}

const main = defineCommand({
  meta: { name: "run-build", description: "Run one measured build" },
  args: {
    kind: { type: "enum", options: ["tierwall", "plain"], required: true },
    content: { type: "string", required: true, description: "Markdown folder" },
    out: { type: "string", required: true, description: "Output folder" },
  },
  async run({ args }) {
    const contentDir = path.resolve(args.content);
    const out = path.resolve(args.out);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();

    if (args.kind === "tierwall") {
      await buildSite({ contentDir, distDir: out, quiet: true });
    } else {
      await buildPlain(contentDir, out);
    }

    const cpu = process.cpuUsage(cpuBefore);
    const measurement: BuildMeasurement = {
      kind: args.kind,
      ms: performance.now() - started,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
    };
    console.log(JSON.stringify(measurement));
  },
});

runMain(main);
