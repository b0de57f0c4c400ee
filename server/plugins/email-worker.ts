import { defineNitroPlugin } from "nitropack/runtime";
import { Resend } from "resend";
import tierwall from "../../tierwall.config.ts";
import { useDb } from "../db/database.ts";
import {
  readDeliveryPolicy,
  readPollMs,
  readShutdownDrainMs,
  startEmailWorker,
} from "../email/worker.ts";

/**
 * Starts delivering the email outbox when the server starts. When Nitro closes
 * (on SIGTERM or SIGINT, after the requests under way have been answered) it
 * stops polling, finishes the delivery under way and, for up to
 * EMAIL_SHUTDOWN_DRAIN_MS, delivers what is already due, so the email a last
 * request queued goes out before the process exits.
 *
 * Every server process runs a worker on the one database: each row is claimed
 * with a compare-and-set before it is sent (server/email/outbox.ts), so two
 * workers never send one email, and Resend's idempotency key covers a process
 * that dies mid-send.
 *
 * Without RESEND_API_KEY the worker still runs, against RESEND_BASE_URL: that is
 * how the offline demo and the tests send to the Resend emulator. The retry
 * policy and the poll interval come from EMAIL_* variables (see README).
 */
export default defineNitroPlugin((nitroApp) => {
  const drainMs = readShutdownDrainMs();
  const worker = startEmailWorker({
    db: useDb(),
    // An empty key counts as none: the SDK refuses to start with "".
    sender: new Resend(process.env.RESEND_API_KEY?.trim() || "re_offline"),
    from: process.env.EMAIL_FROM?.trim() || tierwall.email.from,
    site: { name: tierwall.site.name, url: tierwall.site.url },
    policy: readDeliveryPolicy(),
    pollMs: readPollMs(),
    clock: () => Date.now() / 1000,
  });

  nitroApp.hooks.hook("close", () => worker.stop(drainMs));
});
