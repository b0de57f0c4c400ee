import cancellationScheduled from "../../theme/emails/cancellation-scheduled.ts";
import emailChanged from "../../theme/emails/email-changed.ts";
import passwordReset from "../../theme/emails/password-reset.ts";
import paymentFailed from "../../theme/emails/payment-failed.ts";
import planChanged from "../../theme/emails/plan-changed.ts";
import signInLink from "../../theme/emails/sign-in-link.ts";
import subscriptionEnded from "../../theme/emails/subscription-ended.ts";
import subscriptionStarted from "../../theme/emails/subscription-started.ts";
import verifyEmail from "../../theme/emails/verify-email.ts";
import welcome from "../../theme/emails/welcome.ts";

/**
 * Transactional email templates: the names the outbox stores, the data each
 * one needs, and the renderer for each. The words live in the theme, one file
 * per email in theme/emails/, so a writer rewords an email by editing that
 * file; every email has an HTML body and a text body, which is what many mail
 * clients preview and what screen readers often read.
 */

export interface EmailSite {
  name: string;
  url: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * The data each template needs, stored as JSON in the outbox row. Links are
 * absolute URLs made by the code that queues the email; dates are ISO strings.
 */
export interface TemplateData {
  /** A new account, or a new address after a change: confirm it. */
  "verify-email": {
    email: string;
    url: string;
    expiresAt: string;
    /** Why the address is to be confirmed. Default "sign-up". */
    reason?: "sign-up" | "change";
  };
  /** Passwordless sign-in. */
  "sign-in-link": { email: string; url: string; expiresAt: string };
  "password-reset": { email: string; url: string; expiresAt: string };
  /** Sent to the old address when the account's address changes. */
  "email-changed": { oldEmail: string; newEmail: string };
  welcome: { email: string };
  "subscription-started": {
    tierName: string;
    interval: string | null;
    renewsAt: string | null;
  };
  "plan-changed": { fromTierName: string; toTierName: string };
  "cancellation-scheduled": { tierName: string; endsAt: string };
  /** Once per failed invoice, however many retries fail. */
  "payment-failed": { tierName: string; graceEndsAt: string | null };
  "subscription-ended": {
    tierName: string;
    /** Why access stopped; "unpaid" can still be undone by paying. Default "canceled". */
    reason?: "canceled" | "unpaid" | "expired";
  };
}

export type TemplateName = keyof TemplateData;

type Renderers = {
  [T in TemplateName]: (data: TemplateData[T], site: EmailSite) => RenderedEmail;
};

/** Every template, by the name stored in the outbox row. */
const renderers: Renderers = {
  "verify-email": verifyEmail,
  "sign-in-link": signInLink,
  "password-reset": passwordReset,
  "email-changed": emailChanged,
  welcome,
  "subscription-started": subscriptionStarted,
  "plan-changed": planChanged,
  "cancellation-scheduled": cancellationScheduled,
  "payment-failed": paymentFailed,
  "subscription-ended": subscriptionEnded,
};

export const templateNames = Object.keys(renderers) as TemplateName[];

export function isTemplateName(name: string): name is TemplateName {
  return Object.hasOwn(renderers, name);
}

export function renderEmail<T extends TemplateName>(
  template: T,
  data: TemplateData[T],
  site: EmailSite,
): RenderedEmail {
  const render = renderers[template] as (
    data: TemplateData[T],
    site: EmailSite,
  ) => RenderedEmail;
  return render(data, site);
}
