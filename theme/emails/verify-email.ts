import type { EmailSite, TemplateData } from "../../server/email/templates.ts";
import { defineEmail, type EmailContent, formatDateTime, strong } from "./compose.ts";

type Confirm = TemplateData["verify-email"];

/** Sent to a new account's address, or to a new address after a change. */
export default defineEmail<"verify-email">((data, site) =>
  data.reason === "change" ? confirmMove(data, site) : confirmSignUp(data, site),
);

function confirmSignUp(data: Confirm, site: EmailSite): EmailContent {
  return {
    subject: `Confirm your email address for ${site.name}`,
    heading: "Confirm your email address",
    paragraphs: [
      [
        "Please confirm that ",
        strong(data.email),
        ` is your address, so that ${site.name} can reach you about your account `,
        "and your subscription.",
      ],
    ],
    action: { label: "Confirm my address", url: data.url },
    closing: [
      `The link works until ${formatDateTime(data.expiresAt)}.`,
      `If you did not sign up for ${site.name}, ignore this email: nothing happens ` +
        "unless the link is opened.",
    ],
  };
}

function confirmMove(data: Confirm, site: EmailSite): EmailContent {
  return {
    subject: `Confirm your new email address for ${site.name}`,
    heading: "Confirm your new email address",
    paragraphs: [
      [
        `Someone asked to move a ${site.name} account to `,
        strong(data.email),
        ". Confirm it to finish the move: sign-in links, receipts and notices ",
        "about the subscription will then come here.",
      ],
    ],
    action: { label: "Confirm my address", url: data.url },
    closing: [
      `The link works until ${formatDateTime(data.expiresAt)}.`,
      "If it was not you, ignore this email; the account stays where it is.",
    ],
  };
}
