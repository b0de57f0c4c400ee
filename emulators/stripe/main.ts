import { parseArgs } from "node:util";
import { startStripeEmulator } from "./index.ts";

/*
 * Runs the Stripe emulator on its own:
 *   tsx emulators/stripe/main.ts --port 12111 [--host 127.0.0.1] [--state data/stripe.json]
 *     [--empty-catalog]   start with no products or prices, as a new Stripe account
 */

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "12111" },
    host: { type: "string", default: "127.0.0.1" },
    state: { type: "string" },
    quiet: { type: "boolean", default: false },
    "empty-catalog": { type: "boolean", default: false },
  },
});

const emulator = await startStripeEmulator({
  port: Number(values.port),
  host: values.host,
  statePath: values.state,
  catalog: values["empty-catalog"] ? "empty" : "example",
  log: values.quiet ? undefined : (line) => console.log(line),
});

console.log(`Stripe emulator: ${emulator.url}`);
console.log(
  `Point the SDK at it: new Stripe("sk_test_…", { host, port, protocol: "http" })`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
