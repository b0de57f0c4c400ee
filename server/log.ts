/**
 * Server logs: one JSON line per event worth knowing in production, tagged by
 * area, so that a log collector can filter and count them without parsing
 * prose. Every line carries the time, the level, the area and the pid of the
 * process that wrote it (several server processes share one log under the
 * cluster launcher). Info lines go to stdout, warnings and errors to stderr.
 *
 * Messages and error stacks pass through `redactEmails`, so an address that
 * slips into a message (a provider's error text, say) is logged masked rather
 * than in full.
 */

export type LogArea = "auth" | "email" | "site" | "http" | "billing" | "feeds" | "server";

export type LogLevel = "info" | "warn" | "error";

export function logInfo(area: LogArea, message: string): void {
  console.log(logLine("info", area, { message: redactEmails(message) }));
}

export function logWarn(area: LogArea, message: string): void {
  console.warn(logLine("warn", area, { message: redactEmails(message) }));
}

/** For unexpected failures: the whole error goes to the log, never to the client. */
export function logError(area: LogArea, message: string, error?: unknown): void {
  const fields: Record<string, unknown> = { message: redactEmails(message) };
  if (error !== undefined) fields.error = describeError(error);
  console.error(logLine("error", area, fields));
}

/**
 * One log line as JSON, without the trailing newline: the time and level
 * first, then the fields given. Callers pass only values safe to log.
 */
export function logLine(
  level: LogLevel,
  area: LogArea,
  fields: Record<string, unknown>,
): string {
  const time = new Date().toISOString();
  return JSON.stringify({ time, level, area, pid: process.pid, ...fields });
}

/** An error as log fields: its name, message and stack, addresses masked. */
export function describeError(error: unknown): Record<string, string> {
  if (!(error instanceof Error)) return { message: redactEmails(String(error)) };
  const described: Record<string, string> = {
    name: error.name,
    message: redactEmails(error.message),
  };
  if (error.stack) described.stack = redactEmails(error.stack);
  return described;
}

/** "mara@example.com" → "m***@example.com": enough to tell readers apart in a log. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

const emailPattern = /[^\s<>"'(),;:@]+@[^\s<>"'(),;:@]+\.[^\s<>"'(),;:@]+/g;

export function redactEmails(text: string): string {
  return text.replace(emailPattern, (match) => maskEmail(match));
}
