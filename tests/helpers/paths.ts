import { join, resolve } from "node:path";
import { inject } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";

/**
 * Each test run builds the site and the server into a folder of its own under
 * `.tierwall/test/`, so that runs side by side (or beside `npm start`) never
 * rebuild files another one is serving.
 */
export const testRoot = resolve(repoRoot, ".tierwall/test");

export interface TestBuild {
  distDir: string;
  outputDir: string;
  nitroBuildDir: string;
}

export function testBuildIn(runDir: string): TestBuild {
  return {
    distDir: join(runDir, "dist"),
    outputDir: join(runDir, "output"),
    nitroBuildDir: join(runDir, "nitro"),
  };
}

/** The build made by this run's global setup. */
export function currentTestBuild(): TestBuild {
  return testBuildIn(inject("testRunDir"));
}

declare module "vitest" {
  export interface ProvidedContext {
    testRunDir: string;
  }
}
