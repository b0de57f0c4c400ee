import { defineNitroPlugin } from "nitropack/runtime";
import { readCheckoutOptions } from "../billing/checkout-options.ts";
import { useEdgeConfig } from "../edge/config.ts";
import { logError } from "../log.ts";

/**
 * Reads the settings that come from the environment before the server takes
 * a request, so that a mistyped value stops the start with one line naming
 * the variable, rather than failing the first reader who reaches it (a
 * Checkout, a gated page at the edge).
 */
export default defineNitroPlugin(() => {
  try {
    readCheckoutOptions();
    useEdgeConfig();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logError("server", `cannot start: ${message}`);
    process.exit(1);
  }
});
