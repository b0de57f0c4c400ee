import { defineEmail, link, strong } from "./compose.ts";

/** Sent to the old address, so that a reader whose account was taken over finds out. */
export default defineEmail<"email-changed">((data, site) => ({
  subject: `Your email address for ${site.name} has changed`,
  heading: "Your email address has changed",
  paragraphs: [
    [
      `Your ${site.name} account no longer uses `,
      strong(data.oldEmail),
      ". From now on it uses ",
      strong(data.newEmail),
      ": sign-in links, receipts and notices about your subscription go there.",
    ],
  ],
  closing: [
    [
      "If you made this change, there is nothing more to do. If you did not, reply to ",
      "this email at once: someone else may be using your account. You can also check ",
      "it on ",
      link("your account page", "/account/"),
      ".",
    ],
  ],
}));
