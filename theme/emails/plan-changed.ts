import { defineEmail, link } from "./compose.ts";

/** Sent when the same subscription moves to another tier (from the Billing Portal). */
export default defineEmail<"plan-changed">((data) => ({
  subject: `Your plan is now ${data.toTierName}`,
  heading: `You are on ${data.toTierName} now`,
  paragraphs: [
    `Your subscription moved from ${data.fromTierName} to ${data.toTierName}. What ` +
      `you can read follows the new plan from now on, and so does what you pay at ` +
      "your next renewal.",
  ],
  action: { label: "Start reading", url: "/" },
  closing: [
    [
      "Your plan, card and invoices are on ",
      link("your account page", "/account/"),
      ". If you did not make this change, reply to this email.",
    ],
  ],
}));
