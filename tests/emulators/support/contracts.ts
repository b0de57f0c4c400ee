import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { OpenApiDocument } from "./openapi-check.ts";

/*
 * The published API shapes the emulators are held to. CI lays the shared
 * folder beside the clone, so they live at <repo>/../shared/contracts.
 */

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const contractsDir = resolve(repoRoot, "../shared/contracts");

export function loadContract<T = OpenApiDocument>(file: string): T {
  const path = resolve(contractsDir, file);
  if (!existsSync(path)) {
    throw new Error(
      `Contract file not found: ${path}. The contract tests read Stripe's and Resend's ` +
        "published API shapes from ../shared/contracts beside the repository; check out " +
        "the shared folder there (CI does this) and run the tests again.",
    );
  }
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
