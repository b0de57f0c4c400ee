import { defineEmail, formatDateTime, strong } from "./compose.ts";

export default defineEmail<"password-reset">((data, site) => ({
  subject: `Reset your password for ${site.name}`,
  heading: "Choose a new password",
  paragraphs: [
    [
      `Someone asked to reset the password of the ${site.name} account for `,
      strong(data.email),
      ". If it was you, choose a new password here:",
    ],
  ],
  action: { label: "Choose a new password", url: data.url },
  closing: [
    `The link works once, until ${formatDateTime(data.expiresAt)}.`,
    "If you did not ask for this, ignore this email: your password stays as it is.",
  ],
}));
