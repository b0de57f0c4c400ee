/**
 * Server logs: one line per event worth knowing in production, tagged by area.
 * Messages pass through `redactEmails`, so an address that slips into a message
 * (a provider's error text, say) is logged masked rather than in full.
 */

export type LogArea = "auth" | "email" | "site" | "http" | "billing" | "feeds";

export function logInfo(area: LogArea, message: string): void {
  console.log(`[${area}] ${redactEmails(message)}`);
}

export function logWarn(area: LogArea, message: string): void {
  console.warn(`[${area}] ${redactEmails(message)}`);
}

/** For unexpected failures: the whole error goes to the log, never to the client. */
export function logError(area: LogArea, message: string, error?: unknown): void {
  if (error === undefined) console.error(`[${area}] ${redactEmails(message)}`);
  else console.error(`[${area}] ${redactEmails(message)}`, error);
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
