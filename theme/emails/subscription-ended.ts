import type { EmailSite, TemplateData } from "../../server/email/templates.ts";
import { defineEmail, type EmailContent } from "./compose.ts";

type Ended = TemplateData["subscription-ended"];

/**
 * Sent when a subscription stops granting its tier: cancelled (for good), unpaid
 * (until the open invoice is paid) or expired (the first payment never completed).
 */
export default defineEmail<"subscription-ended">((data, site) => {
  switch (data.reason) {
    case "unpaid":
      return paused(data, site);
    case "expired":
      return neverStarted(data, site);
    default:
      return ended(data, site);
  }
});

function ended(data: Ended, site: EmailSite): EmailContent {
  return {
    subject: `Your ${data.tierName} subscription has ended`,
    heading: "Your subscription has ended",
    paragraphs: [
      `Your ${data.tierName} subscription has ended, and you will not be charged ` +
        "again. Thank you for reading.",
      `The free posts stay yours to read, and your ${site.name} account stays as it ` +
        "is, should you want to subscribe again.",
    ],
    action: { label: "See the plans", url: "/account/" },
  };
}

function paused(data: Ended, site: EmailSite): EmailContent {
  return {
    subject: `Your ${data.tierName} subscription is paused`,
    heading: "Your subscription is paused",
    paragraphs: [
      `We could not collect the payment for your ${data.tierName} subscription, so ` +
        "its posts are closed to you for now. Pay the open invoice from your account " +
        "page to read them again.",
      `The free posts stay yours to read, and your ${site.name} account stays as it is.`,
    ],
    action: { label: "Pay the invoice", url: "/account/" },
  };
}

function neverStarted(data: Ended, site: EmailSite): EmailContent {
  return {
    subject: `Your ${data.tierName} subscription did not start`,
    heading: "Your subscription did not start",
    paragraphs: [
      `The first payment for your ${data.tierName} subscription was not completed in ` +
        "time, so the subscription did not start and nothing more will be charged.",
      `You can subscribe again from your ${site.name} account page whenever you like.`,
    ],
    action: { label: "See the plans", url: "/account/" },
  };
}
