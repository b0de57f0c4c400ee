import { defineNitroPlugin } from "nitropack/runtime";
import { Resend } from "resend";
import tierwall from "../../tierwall.config.ts";
import { useDb } from "../db/database.ts";
import { readDeliveryPolicy, readPollMs, startEmailWorker } from "../email/worker.ts";

/**
 * Starts delivering the email outbox when the server starts, and stops when
 * Nitro closes (on SIGTERM or SIGINT) after the delivery under way has finished.
 * Without RESEND_API_KEY the worker still runs, against RESEND_BASE_URL: that is
 * how the offline demo and the tests send to the Resend emulator. The retry
 * policy and the poll interval come from EMAIL_* variables (see README).
 */
export default defineNitroPlugin((nitroApp) => {
  const worker = startEmailWorker({
    db: useDb(),
    sender: new Resend(process.env.RESEND_API_KEY ?? "re_offline"),
    from: process.env.EMAIL_FROM ?? tierwall.email.from,
    site: { name: tierwall.site.name, url: tierwall.site.url },
    policy: readDeliveryPolicy(),
    pollMs: readPollMs(),
    clock: () => Date.now() / 1000,
  });

  nitroApp.hooks.hook("close", () => worker.stop());
});
