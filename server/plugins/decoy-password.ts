import { defineNitroPlugin } from "nitropack/runtime";
import { prepareDecoyPassword } from "../auth/password.ts";
import { logError } from "../log.ts";

/**
 * Starts hashing the decoy password that unknown-address sign-ins verify
 * against. Argon2 runs off the main thread and the start does not wait for it:
 * it is done long before the first sign-in can arrive.
 */
export default defineNitroPlugin(() => {
  prepareDecoyPassword().catch((error: unknown) => {
    logError("auth", "hashing the decoy password failed", error);
  });
});
