import { parseArgs } from "node:util";
import { startResendEmulator } from "./index.ts";

/*
 * Runs the Resend emulator on its own:
 *   tsx emulators/resend/main.ts --port 12112 [--host 127.0.0.1]
 */

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "12112" },
    host: { type: "string", default: "127.0.0.1" },
    quiet: { type: "boolean", default: false },
  },
});

const emulator = await startResendEmulator({
  port: Number(values.port),
  host: values.host,
  log: values.quiet ? undefined : (line) => console.log(line),
});

console.log(`Resend emulator: ${emulator.url} (open it to read what arrived)`);
console.log(`Point the SDK at it: RESEND_BASE_URL=${emulator.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
