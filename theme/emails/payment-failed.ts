import { defineEmail, formatDate } from "./compose.ts";

/** Sent once per failed invoice, however many of Stripe's retries fail after it. */
export default defineEmail<"payment-failed">((data) => ({
  subject: `Your payment for ${data.tierName} did not go through`,
  heading: "Your payment did not go through",
  paragraphs: [
    `We could not charge your card for your ${data.tierName} subscription.`,
    data.graceEndsAt === null
      ? "Update your card to keep your subscription."
      : `You keep reading until ${formatDate(data.graceEndsAt)}. Update your card ` +
        "before then to keep your subscription; the payment is tried again on its own.",
  ],
  action: { label: "Update my card", url: "/account/" },
}));
