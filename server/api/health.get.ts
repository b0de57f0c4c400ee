import { defineEventHandler, setResponseHeader, setResponseStatus } from "h3";
import { useDb } from "../db/database.ts";
import { logError } from "../log.ts";
import { loadBundle } from "../site/bundle.ts";

/** For load balancers and uptime checks: 200 only when pages can be served. */
export default defineEventHandler(async (event) => {
  setResponseHeader(event, "cache-control", "no-store");

  try {
    useDb().prepare("SELECT 1").get();
  } catch (error) {
    logError("http", "health check: the database does not answer", error);
    setResponseStatus(event, 503);
    return { ok: false, reason: "The database does not answer." };
  }

  const bundle = await loadBundle();
  if (!bundle.ok) {
    setResponseStatus(event, 503);
    return { ok: false, reason: bundle.reason };
  }
  return { ok: true, buildId: bundle.bundle.manifest.buildId };
});
