import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { runServerBuild, runSiteBuild } from "../../scripts/stack.ts";
import { testBuildIn, testRoot } from "./paths.ts";

/**
 * Builds the example site and the Nitro server once per test run, into a
 * folder of the run's own, and removes it when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const runDir = join(testRoot, `run-${process.pid}-${Date.now()}`);
  mkdirSync(runDir, { recursive: true });
  const build = testBuildIn(runDir);

  await Promise.all([
    // The tests' servers listen on ports of their own; the build links to
    // the local address, as `npm start` builds it.
    runSiteBuild(build.distDir, "http://localhost:3000"),
    runServerBuild(build.outputDir, build.nitroBuildDir),
  ]);
  project.provide("testRunDir", runDir);

  return () => rmSync(runDir, { recursive: true, force: true });
}
