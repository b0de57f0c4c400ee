import { mkdirSync } from "node:fs";
import { runServerBuild, runSiteBuild } from "../../scripts/stack.ts";
import { testDistDir, testNitroBuildDir, testOutputDir, testRoot } from "./paths.ts";

/**
 * Builds the example site and the Nitro server once per test run, into a folder
 * of the tests' own, so the run can sit beside `npm start`.
 */
export default async function setup(): Promise<void> {
  mkdirSync(testRoot, { recursive: true });
  await Promise.all([
    runSiteBuild(testDistDir),
    runServerBuild(testOutputDir, testNitroBuildDir),
  ]);
}
