import { defineEmail, formatDateTime, strong } from "./compose.ts";

/** Passwordless sign-in: the link is the reader's key, once. */
export default defineEmail<"sign-in-link">((data, site) => ({
  subject: `Your sign-in link for ${site.name}`,
  heading: `Sign in to ${site.name}`,
  paragraphs: [["Open the link below to sign in as ", strong(data.email), "."]],
  action: { label: "Sign me in", url: data.url },
  closing: [
    `The link works once, until ${formatDateTime(data.expiresAt)}. Do not forward ` +
      "this email: whoever opens the link is signed in as you.",
    "If you did not ask to sign in, ignore this email; your account stays as it is.",
  ],
}));
