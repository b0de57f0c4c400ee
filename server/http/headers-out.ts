import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

/**
 * Runs `prepare` right before the answer's headers are sent, with the headers
 * given to `writeHead` itself, if any. h3 has no hook that runs after a route
 * whose answer is a redirect, an error or a streamed file; the headers going
 * out is the one moment every answer passes (an answer that never calls
 * `writeHead` gets an implicit call on its first write).
 *
 * Each call wraps the `writeHead` in place, so the last arranged runs first.
 */
export function beforeHeadersGoOut(
  res: ServerResponse,
  prepare: (given: OutgoingHttpHeaders | undefined) => void,
): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    res.writeHead = writeHead;
    prepare(headersArgument(args));
    return Reflect.apply(writeHead, this, args) as ServerResponse;
  } as ServerResponse["writeHead"];
}

/** `writeHead(status, [message], [headers])`: the headers given there, if any. */
function headersArgument(args: unknown[]): OutgoingHttpHeaders | undefined {
  const last = args.length > 1 ? args[args.length - 1] : undefined;
  if (last === null || typeof last !== "object" || Array.isArray(last)) return undefined;
  return last as OutgoingHttpHeaders;
}
