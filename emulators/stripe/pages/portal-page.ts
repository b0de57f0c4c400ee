import { html, type SafeHtml } from "../../shared/html.ts";
import type { StoredPortalSession, StoredSubscription } from "../types.ts";
import { type CardFieldValues, cardFields } from "./card-fields.ts";
import { stripePage } from "./layout.ts";

export interface PortalPlanChoice {
  priceId: string;
  /** "Core Stacker · $12.00 per month". */
  label: string;
}

export interface PortalSubscriptionView {
  subscription: StoredSubscription;
  plan: string;
  price: string;
  /** "Renews on May 3, 2027", "Cancels on …", "Ended on …". */
  renewal: string;
  choices: PortalPlanChoice[];
}

export interface PortalView {
  session: StoredPortalSession;
  customerLabel: string;
  subscriptions: PortalSubscriptionView[];
  /** The last four digits of the card on file, which renewals are charged to. */
  cardLastFour: string;
  notice?: string;
  error?: string;
  /** The card fields as typed, after the card was refused. */
  cardForm?: CardFieldValues;
}

function actionPath(view: PortalView, sub: StoredSubscription, action: string): string {
  return `/p/session/${view.session.id}/subscriptions/${sub.id}/${action}`;
}

function switchForm(view: PortalView, item: PortalSubscriptionView): SafeHtml {
  const current = item.subscription.items.data[0]?.price.id;
  const others = item.choices.filter((choice) => choice.priceId !== current);
  if (others.length === 0) return html``;
  return html`<form method="post" action="${actionPath(view, item.subscription, "switch")}">
      <label for="price-${item.subscription.id}">Change plan</label>
      <select id="price-${item.subscription.id}" name="price">
        ${others.map((choice) => html`<option value="${choice.priceId}">${choice.label}</option>`)}
      </select>
      <button type="submit" class="secondary" id="switch-${item.subscription.id}">Switch plan</button>
    </form>`;
}

function postButton(path: string, label: string, id: string, secondary = true): SafeHtml {
  return html`<form method="post" action="${path}">
      <button type="submit" ${secondary ? html`class="secondary"` : ""} id="${id}">${label}</button>
    </form>`;
}

function payNowButton(view: PortalView, sub: StoredSubscription): SafeHtml | "" {
  if (sub.status !== "past_due" && sub.status !== "unpaid") return "";
  const label = `Pay now with card ending ${view.cardLastFour}`;
  return postButton(actionPath(view, sub, "pay"), label, `pay-${sub.id}`, false);
}

function subscriptionActions(view: PortalView, item: PortalSubscriptionView): SafeHtml {
  const sub = item.subscription;
  if (sub.status === "canceled") return html``;
  const path = (action: string): string => actionPath(view, sub, action);
  const cancelOrResume = sub.cancel_at
    ? postButton(path("resume"), "Don't cancel", `resume-${sub.id}`, false)
    : postButton(path("cancel"), "Cancel at period end", `cancel-${sub.id}`);
  return html`<div class="actions">${switchForm(view, item)} ${cancelOrResume} ${payNowButton(view, sub)}</div>`;
}

function subscriptionPanel(view: PortalView, item: PortalSubscriptionView): SafeHtml {
  const sub = item.subscription;
  return html`<div class="panel" id="subscription-${sub.id}">
      <h2>${item.plan} <span class="status ${sub.status}">${sub.status}</span></h2>
      <p>${item.price}</p>
      <p class="muted">${item.renewal}</p>
      ${subscriptionActions(view, item)}
    </div>`;
}

const SAVED_CARD_HINT =
  "Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0341 is saved but " +
  "declined when charged; 4000 0000 0000 0002 is refused.";

function paymentMethodPanel(view: PortalView): SafeHtml {
  return html`<div class="panel" id="payment-method">
      <h2>Payment method</h2>
      <p>Card ending <span id="card-last-four">${view.cardLastFour}</span></p>
      <form method="post" action="/p/session/${view.session.id}/card" id="card-form">
        ${cardFields(view.cardForm ?? {}, SAVED_CARD_HINT)}
        <button type="submit" id="update-card">Update card</button>
      </form>
    </div>`;
}

export function renderPortalPage(view: PortalView): string {
  const returnUrl = view.session.return_url;
  const body = html`
    ${returnUrl ? html`<p><a href="${returnUrl}" id="return">← Return to the site</a></p>` : ""}
    <div class="panel">
      <h1>Manage your subscription</h1>
      <p class="muted">${view.customerLabel}</p>
    </div>
    ${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ""}
    ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ""}
    ${
      view.subscriptions.length === 0
        ? html`<div class="panel"><p>No subscriptions yet.</p></div>`
        : view.subscriptions.map((item) => subscriptionPanel(view, item))
    }
    ${paymentMethodPanel(view)}`;
  return stripePage("Billing · Stripe emulator", body);
}
