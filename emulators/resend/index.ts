import { createServer } from "node:http";
import { toNodeListener } from "h3";
import { closeServer, listen } from "../shared/http.ts";
import type { ReceivedEmail } from "./emails.ts";
import { Mailbox, type SendAttempt } from "./mailbox.ts";
import { createResendApp } from "./router.ts";

export type { ReceivedEmail } from "./emails.ts";
export type { SendAttempt } from "./mailbox.ts";

/**
 * A local stand-in for Resend. Point the SDK at it with
 * `new Resend("re_anything", { baseUrl: emulator.url })`, or set
 * `RESEND_BASE_URL` before the client is created (the SDK reads it in its
 * constructor). Open `emulator.url` in a browser to read what arrived.
 */

export interface ResendEmulatorOptions {
  /** 0 or undefined picks a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  log?: (line: string) => void;
}

export interface ResendEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Accepted emails, oldest first (copies). */
  emails(): ReceivedEmail[];
  /** Every request to a send route, oldest first, accepted or refused (copies). */
  attempts(): SendAttempt[];
}

export async function startResendEmulator(
  options: ResendEmulatorOptions = {},
): Promise<ResendEmulator> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const mailbox = new Mailbox();
  const server = createServer(toNodeListener(createResendApp(mailbox, log)));
  const { url, port } = await listen(server, options.port ?? 0, host);
  log(`[resend] emulator listening on ${url}`);

  return {
    url,
    port,
    emails: () => mailbox.all(),
    attempts: () => mailbox.attempts(),
    close: () => closeServer(server),
  };
}
