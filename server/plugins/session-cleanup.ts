import { defineNitroPlugin } from "nitropack/runtime";
import { deleteExpiredSessions } from "../auth/sessions.ts";
import { logError } from "../log.ts";

/**
 * An expired session is deleted when its cookie comes back, but most never come
 * back: the browser dropped the cookie. Sweeping them hourly keeps the session
 * table the size of the readership.
 */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export default defineNitroPlugin((nitroApp) => {
  const sweep = (): void => {
    deleteExpiredSessions().catch((error: unknown) => {
      logError("auth", "expired sessions could not be deleted", error);
    });
  };

  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  nitroApp.hooks.hook("close", () => clearInterval(timer));
});
