import {
  createServer,
  request as forward,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { closeServer, listen } from "../shared/http.ts";
import { StripeApiError, type StripeErrorType } from "./errors.ts";

/**
 * A fault layer in front of the Stripe emulator: it passes every request on
 * unchanged, except the ones an armed fault picks, which it answers itself
 * with an error in Stripe's wire format. It is for what `/_emulator/outage`
 * cannot show: one call refused among calls that succeed, say the second
 * cancellation of two.
 *
 *   const faults = await startStripeFaults();
 *   // start the server with STRIPE_API_BASE=faults.url, then:
 *   faults.forwardTo(emulator.url);
 *
 * Requests that arrive before `forwardTo` wait for it. Test-only control
 * routes, on the layer's own address (no key, JSON in and out):
 *
 *   POST   /_faults   { "path", "method"?, "skip"?, "count"?, "status"?,
 *                      "type"?, "code"?, "message"? }
 *          Arms a fault. Of the requests whose path starts with `path` (e.g.
 *          "/v1/subscriptions/") and whose method is `method` (any when
 *          absent), the first `skip` (default 0) pass, and the next `count`
 *          (default 1) are answered `status` (default 400) with `type`
 *          (default "invalid_request_error"), `code` and `message`, and
 *          `Stripe-Should-Retry: false`, without reaching the emulator.
 *          Answers { fault }; 400 for a body it cannot read.
 *   GET    /_faults   { faults }: each with `matched` and `remaining`.
 *   DELETE /_faults   Disarms every fault: { faults: [] }.
 */

export interface StripeFaults {
  /** E.g. "http://127.0.0.1:41235". */
  url: string;
  /** The emulator's address, where every request not faulted goes. */
  forwardTo(target: string): void;
  close(): Promise<void>;
}

interface Fault {
  path: string;
  method: string | null;
  skip: number;
  remaining: number;
  matched: number;
  error: StripeApiError;
}

export async function startStripeFaults(host = "127.0.0.1"): Promise<StripeFaults> {
  const faults: Fault[] = [];
  let setTarget: (target: URL) => void = () => {};
  const target = new Promise<URL>((resolve) => {
    setTarget = resolve;
  });

  const server = createServer((req, res) => {
    handle(req, res, faults, target).catch((error: unknown) => {
      answerJson(res, 502, { error: { type: "api_error", message: String(error) } });
    });
  });
  const { url } = await listen(server, 0, host);
  return {
    url,
    forwardTo: (address) => setTarget(new URL(address)),
    close: () => closeServer(server),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  faults: Fault[],
  target: Promise<URL>,
): Promise<void> {
  const path = req.url ?? "/";
  if (path === "/_faults") return control(req, res, faults);

  const fault = faults.find((candidate) => takes(candidate, req.method ?? "GET", path));
  if (fault) {
    req.resume();
    res.setHeader("stripe-should-retry", "false");
    return answerJson(res, fault.error.statusCode, fault.error.toBody());
  }
  pass(req, res, await target);
}

/** Whether this request is one the fault answers; counts it either way. */
function takes(fault: Fault, method: string, path: string): boolean {
  if (fault.remaining === 0 || !path.startsWith(fault.path)) return false;
  if (fault.method !== null && fault.method !== method.toUpperCase()) return false;

  fault.matched++;
  if (fault.matched <= fault.skip) return false;
  fault.remaining--;
  return true;
}

function pass(req: IncomingMessage, res: ServerResponse, target: URL): void {
  const outgoing = forward(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  outgoing.on("error", (error) => {
    answerJson(res, 502, { error: { type: "api_error", message: error.message } });
  });
  req.pipe(outgoing);
}

async function control(
  req: IncomingMessage,
  res: ServerResponse,
  faults: Fault[],
): Promise<void> {
  if (req.method === "DELETE") {
    faults.length = 0;
    return answerJson(res, 200, { faults: [] });
  }
  if (req.method !== "POST") return answerJson(res, 200, { faults: faults.map(present) });

  const fault = readFault(await readBody(req));
  if (typeof fault === "string") return answerJson(res, 400, { error: fault });
  faults.push(fault);
  answerJson(res, 200, { fault: present(fault) });
}

function readFault(body: string): Fault | string {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(body || "{}") as Record<string, unknown>;
  } catch {
    return "The body must be JSON.";
  }
  if (typeof fields.path !== "string" || !fields.path.startsWith("/")) {
    return 'A fault needs a "path" starting with "/", e.g. "/v1/subscriptions/".';
  }
  const status = wholeNumber(fields.status, 400);
  const error = new StripeApiError(
    status,
    typeof fields.message === "string" ? fields.message : "Refused (emulated fault).",
    {
      type: readType(fields.type, status),
      code: typeof fields.code === "string" ? fields.code : undefined,
    },
  );
  return {
    path: fields.path,
    method: typeof fields.method === "string" ? fields.method.toUpperCase() : null,
    skip: wholeNumber(fields.skip, 0),
    remaining: wholeNumber(fields.count, 1),
    matched: 0,
    error,
  };
}

function readType(value: unknown, status: number): StripeErrorType {
  const types: StripeErrorType[] = [
    "invalid_request_error",
    "idempotency_error",
    "card_error",
    "api_error",
  ];
  if (types.includes(value as StripeErrorType)) return value as StripeErrorType;
  return status >= 500 ? "api_error" : "invalid_request_error";
}

function wholeNumber(value: unknown, fallback: number): number {
  return Number.isInteger(value) && (value as number) >= 0 ? (value as number) : fallback;
}

function present(fault: Fault): Record<string, unknown> {
  return {
    path: fault.path,
    method: fault.method,
    skip: fault.skip,
    matched: fault.matched,
    remaining: fault.remaining,
    status: fault.error.statusCode,
    ...fault.error.toBody().error,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
