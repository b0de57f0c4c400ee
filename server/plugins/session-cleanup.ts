import { defineNitroPlugin } from "nitropack/runtime";
import { deleteExpiredSessions } from "../auth/sessions.ts";
import { truncateWriteAheadLog, useDb } from "../db/database.ts";
import { logError } from "../log.ts";

/**
 * Hourly housekeeping. An expired session is deleted when its cookie comes
 * back, but most never come back: the browser dropped the cookie. Sweeping
 * them keeps the session table the size of the readership. Then the
 * write-ahead log is emptied into the database, where deleted rows are zeroed,
 * so no old copy of a sent link outlives the hour in the `-wal` file.
 */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export default defineNitroPlugin((nitroApp) => {
  const sweep = (): void => {
    deleteExpiredSessions()
      .then(() => truncateWriteAheadLog(useDb()))
      .catch((error: unknown) => {
        logError("server", "hourly housekeeping failed", error);
      });
  };

  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  nitroApp.hooks.hook("close", () => clearInterval(timer));
});
