import { defineNitroPlugin } from "nitropack/runtime";
import { closeDb, useDb } from "../db/database.ts";
import { logError } from "../log.ts";

/**
 * Opens the database (and applies pending migrations) when the server starts,
 * before it accepts a request, so a broken database stops the start rather
 * than the first reader. The connection closes when the process exits, after
 * Nitro's `close` hooks (the email worker's last delivery) have run: closing
 * the last connection checkpoints the write-ahead log into the database file.
 */
export default defineNitroPlugin(() => {
  try {
    useDb();
  } catch (error) {
    const path = process.env.DATABASE_PATH ?? "data/tierwall.db";
    const problem = error instanceof Error ? error.message : String(error);
    logError("server", `cannot start: DATABASE_PATH ${path} cannot be used: ${problem}`);
    process.exit(1);
  }
  process.once("exit", () => closeDb());
});
