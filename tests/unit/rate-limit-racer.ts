import { createInterface } from "node:readline";
import { type RateLimitPolicy, takeRateLimitHits } from "../../server/auth/rate-limit.ts";
import { openDatabase } from "../../server/db/database.ts";

/**
 * One of the processes in the rate-limit race (rate-limit.test.ts): opens the
 * database file it is given, says "ready", waits for "go", then, bucket after
 * bucket, takes `attempts` hits on each as fast as it can, and prints how many
 * the limit let through. Every bucket filling up is one chance for two
 * processes to slip past its limit together.
 */

const [path = "", buckets = "0", attempts = "0", limit = "0"] = process.argv.slice(2);
const policy: RateLimitPolicy = { name: "race", limit: Number(limit), windowSeconds: 60 };
const db = openDatabase(path);

const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
lines.once("line", () => {
  let through = 0;
  for (let bucket = 0; bucket < Number(buckets); bucket++) {
    for (let attempt = 0; attempt < Number(attempts); attempt++) {
      const verdict = takeRateLimitHits(db, [[policy, `client ${bucket}`]], 1000);
      if (!verdict.limited) through++;
    }
  }
  process.stdout.write(`${through}\n`);
  lines.close();
  db.close();
});
