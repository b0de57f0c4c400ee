import { page, type SafeHtml } from "../../shared/html.ts";

/** A hosted page with the banner that tells readers no real money moves. */
export function stripePage(title: string, body: SafeHtml): string {
  return page(
    title,
    "Test mode · Tierwall's local Stripe emulator · no real money moves",
    body,
  );
}
