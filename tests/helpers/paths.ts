import { resolve } from "node:path";
import { repoRoot } from "../../scripts/stack.ts";

/** Where the test run keeps its own builds, apart from `npm start`'s. */
export const testRoot = resolve(repoRoot, ".tierwall/test");
export const testDistDir = resolve(testRoot, "dist");
export const testOutputDir = resolve(testRoot, "output");
export const testNitroBuildDir = resolve(testRoot, "nitro");
