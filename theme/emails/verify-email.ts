import { defineEmail, formatDateTime, strong } from "./compose.ts";

/** Sent to a new account's address, or to a new address after a change. */
export default defineEmail<"verify-email">((data, site) => ({
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
}));
