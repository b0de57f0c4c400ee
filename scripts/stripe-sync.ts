import { defineCommand, runMain } from "citty";
import {
  repairCustomerEmails,
  repairSubscriptions,
  tierLabel,
} from "../server/billing/repair.ts";
import { createStripeClient } from "../server/billing/stripe-client.ts";
import { closeDb, useDb } from "../server/db/database.ts";
import { operatorRun, requireDatabaseFile } from "./operator.ts";

/**
 * `npm run stripe:sync`: re-reads every customer's subscriptions from Stripe
 * into the database at DATABASE_PATH, for after webhooks were lost, and gives
 * every reader's customer the reader's current address. Exits 1
 * when any customer could not be synced; the others are synced all the same.
 */

const main = defineCommand({
  meta: {
    name: "stripe:sync",
    description: "Re-sync every reader's subscriptions and customer email with Stripe",
  },
  run: operatorRun(async () => {
    requireDatabaseFile();
    const stripe = createStripeClient(process.env);
    const db = useDb();
    try {
      const report = await repairSubscriptions(stripe, db);
      const emails = await repairCustomerEmails(stripe, db);
      const failures = [...report.failures, ...emails.failures];

      console.log(`customers checked: ${report.customersChecked}`);
      if (report.unknownCustomers > 0) {
        console.log(`customers of no reader (left alone): ${report.unknownCustomers}`);
      }
      console.log(`readers whose tier changed: ${report.tierChanges.length}`);
      for (const change of report.tierChanges) {
        console.log(
          `  ${change.email}: ${tierLabel(change.from)} → ${tierLabel(change.to)}`,
        );
      }
      console.log(`customer emails corrected: ${emails.emailsFixed}`);
      console.log(`failures: ${failures.length}`);
      for (const failure of failures) {
        console.error(`  ${failure.what}: ${failure.message}`);
      }
      if (failures.length > 0) process.exitCode = 1;
    } finally {
      closeDb();
    }
  }),
});

void runMain(main);
