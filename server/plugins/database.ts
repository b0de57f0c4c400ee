import { defineNitroPlugin } from "nitropack/runtime";
import { closeDb, useDb } from "../db/database.ts";

/**
 * Opens the database (and applies pending migrations) when the server starts,
 * before it accepts a request, so a broken database stops the start rather
 * than the first reader. The connection closes when the process exits, after
 * Nitro's `close` hooks (the email worker's last delivery) have run: closing
 * the last connection checkpoints the write-ahead log into the database file.
 */
export default defineNitroPlugin(() => {
  useDb();
  process.once("exit", () => closeDb());
});
