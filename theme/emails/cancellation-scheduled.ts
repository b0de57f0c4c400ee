import { defineEmail, formatDate } from "./compose.ts";

/** Sent when a cancellation is scheduled: the reader keeps reading until it takes effect. */
export default defineEmail<"cancellation-scheduled">((data) => ({
  subject: `Your ${data.tierName} subscription ends on ${formatDate(data.endsAt)}`,
  heading: "Your subscription is cancelled",
  paragraphs: [
    `You keep reading everything ${data.tierName} includes until ` +
      `${formatDate(data.endsAt)}. After that you will not be charged again, and the ` +
      "free posts stay yours to read.",
    "Changed your mind? You can keep your subscription from your account page " +
      "until then.",
  ],
  action: { label: "Keep my subscription", url: "/account/" },
}));
