import type { TemplateData } from "../../server/email/templates.ts";
import { defineEmail, formatDate, link } from "./compose.ts";

/** Sent when a subscription first grants its tier. */
export default defineEmail<"subscription-started">((data, site) => ({
  subject: `Your ${data.tierName} subscription has started`,
  heading: `Welcome to ${data.tierName}`,
  paragraphs: [
    `Thank you for subscribing to ${site.name}. Every ${data.tierName} post is open ` +
      "to you now.",
    ...renewal(data),
  ],
  action: { label: "Start reading", url: "/" },
  closing: [
    [
      "Change your plan, update your card or read your invoices from ",
      link("your account page", "/account/"),
      ".",
    ],
  ],
}));

function renewal(data: TemplateData["subscription-started"]): string[] {
  if (data.renewsAt === null) return [];
  const next = formatDate(data.renewsAt);
  if (data.interval === null) return [`Your plan renews on ${next}.`];
  return [`Your plan renews every ${data.interval}; the next renewal is on ${next}.`];
}
