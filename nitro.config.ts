import { defineNitroConfig } from "nitropack/config";

// The server lives in server/. Auto-imports are off so that every module names
// what it uses, and a request can be followed from route to database by imports.
export default defineNitroConfig({
  srcDir: "server",
  compatibilityDate: "2026-11-01",
  preset: "node-server",
  // Nitro's Node server with JSON log lines; see server/entry.ts.
  entry: "~/entry",
  imports: false,
  output: { dir: process.env.TIERWALL_OUTPUT_DIR ?? ".output" },
  buildDir: process.env.TIERWALL_BUILD_DIR ?? ".nitro",
  typescript: { generateTsConfig: false },
  // Nitro's error answer with accurate reason phrases; see server/error.ts.
  errorHandler: "~/error",
});
