import { defineEmail, link, strong } from "./compose.ts";

/** Sent once, when a reader signs up. */
export default defineEmail<"welcome">((data, site) => ({
  subject: `Welcome to ${site.name}`,
  heading: `Welcome to ${site.name}`,
  paragraphs: [
    [
      "Your account for ",
      strong(data.email),
      " is ready, and the free posts are yours to read.",
    ],
    ["To read more, choose a plan on ", link("your account page", "/account/"), "."],
  ],
  action: { label: "Start reading", url: "/" },
}));
