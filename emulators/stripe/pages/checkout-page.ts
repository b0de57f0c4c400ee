import { html, type SafeHtml } from "../../shared/html.ts";
import type { StoredCheckoutSession } from "../types.ts";
import { type CardFieldValues, cardFields } from "./card-fields.ts";
import { stripePage } from "./layout.ts";

export interface CheckoutLine {
  name: string;
  description: string | null;
  /** "$12.00 per month". */
  price: string;
}

/** What the reader typed, echoed back after a declined card. */
export interface CheckoutForm extends CardFieldValues {
  email?: string;
  name?: string;
  promotion_code?: string;
}

export interface CheckoutView {
  session: StoredCheckoutSession;
  lines: CheckoutLine[];
  /** The amount due today, formatted. */
  dueToday: string;
  /** "then $12.00 per month" or "per month". */
  dueNote: string;
  /** The customer's known email; null means the form asks for one. */
  knownEmail: string | null;
  trialDays: number | null;
  /** The session was created with `allow_promotion_codes`: the form asks for one. */
  takesPromotionCodes: boolean;
  form?: CheckoutForm;
  error?: string;
}

function summary(view: CheckoutView): SafeHtml {
  return html`
    <p class="muted">Subscribe to</p>
    ${view.lines.map(
      (line) => html`<h1>${line.name}</h1>
        ${line.description ? html`<p class="muted">${line.description}</p>` : ""}
        ${view.lines.length > 1 ? html`<p>${line.price}</p>` : ""}`,
    )}
    <p class="amount" id="amount-due">${view.dueToday}</p>
    <p class="muted">${view.dueNote}</p>`;
}

function emailField(view: CheckoutView): SafeHtml {
  if (view.knownEmail) {
    return html`<label>Email</label><p id="email">${view.knownEmail}</p>`;
  }
  const value = view.form?.email ?? view.session.customer_email ?? "";
  return html`<label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required value="${value}">`;
}

function promotionCodeField(view: CheckoutView): SafeHtml | string {
  if (!view.takesPromotionCodes) return "";
  return html`<label for="promotion_code">Promotion code</label>
    <input id="promotion_code" name="promotion_code" autocomplete="off"
      value="${view.form?.promotion_code ?? ""}">
    <p class="hint">Optional. It is taken off when you pay.</p>`;
}

const TEST_CARD_HINT =
  "Test card: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined.";

function paymentForm(view: CheckoutView): SafeHtml {
  const form = view.form ?? {};
  return html`
    <form method="post" action="/c/pay/${view.session.id}" id="payment-form">
      ${emailField(view)}
      ${cardFields(form, TEST_CARD_HINT)}
      <label for="name">Name on card</label>
      <input id="name" name="name" autocomplete="cc-name" value="${form.name ?? ""}">
      ${promotionCodeField(view)}
      ${view.error ? html`<p class="error" role="alert" id="card-error">${view.error}</p>` : ""}
      <button type="submit" class="wide" id="submit">${view.trialDays ? "Start trial" : "Subscribe"}</button>
    </form>
    ${
      view.session.cancel_url
        ? html`<p><a href="${view.session.cancel_url}" id="cancel">Cancel and go back</a></p>`
        : ""
    }`;
}

function closedNotice(
  session: StoredCheckoutSession,
  successUrl: string | null,
): SafeHtml {
  if (session.status === "complete") {
    return html`<h1>This checkout is complete</h1>
      <p class="muted">The payment went through and the subscription has started.</p>
      ${successUrl ? html`<p><a href="${successUrl}" id="continue">Continue</a></p>` : ""}`;
  }
  return html`<h1>This checkout has expired</h1>
    <p class="muted">Start again from the site to get a new checkout page.</p>
    ${session.cancel_url ? html`<p><a href="${session.cancel_url}" id="cancel">Go back</a></p>` : ""}`;
}

export function renderCheckoutPage(
  view: CheckoutView,
  successUrl: string | null,
): string {
  const body =
    view.session.status === "open"
      ? html`<div class="panel narrow">${summary(view)}</div>
          <div class="panel narrow">${paymentForm(view)}</div>`
      : html`<div class="panel narrow">${closedNotice(view.session, successUrl)}</div>`;
  return stripePage("Checkout · Stripe emulator", body);
}
