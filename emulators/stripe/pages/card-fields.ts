import { html, type SafeHtml } from "../../shared/html.ts";

/** What the reader typed into the card fields, echoed back after a refusal. */
export interface CardFieldValues {
  card_number?: string;
  card_expiry?: string;
  card_cvc?: string;
}

/** Card number, expiry and CVC, as the Checkout page and the portal ask for them. */
export function cardFields(values: CardFieldValues, numberHint: string): SafeHtml {
  return html`<label for="card_number">Card number</label>
      <input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number"
        placeholder="1234 1234 1234 1234" required value="${values.card_number ?? ""}">
      <p class="hint">${numberHint}</p>
      <div class="row">
        <div>
          <label for="card_expiry">Expiry</label>
          <input id="card_expiry" name="card_expiry" placeholder="MM / YY" autocomplete="cc-exp"
            required value="${values.card_expiry ?? ""}">
        </div>
        <div>
          <label for="card_cvc">CVC</label>
          <input id="card_cvc" name="card_cvc" inputmode="numeric" placeholder="123"
            autocomplete="cc-csc" required value="${values.card_cvc ?? ""}">
        </div>
      </div>
      <p class="hint">Any future date and any three digits.</p>`;
}
