import { html, type SafeHtml } from "../../shared/html.ts";
import type {
  Delivery,
  StoredCustomer,
  StoredEvent,
  StoredSubscription,
  StoredWebhookEndpoint,
} from "../types.ts";
import { formatDateTime } from "./format.ts";
import { stripePage } from "./layout.ts";

export interface DashboardView {
  baseUrl: string;
  catalog: { product: string; tier: string | null; prices: string[] }[];
  customers: StoredCustomer[];
  subscriptions: { subscription: StoredSubscription; plan: string }[];
  endpoints: StoredWebhookEndpoint[];
  events: { event: StoredEvent; deliveries: Delivery[] }[];
}

function catalogTable(view: DashboardView): SafeHtml {
  return html`<div class="panel"><h2>Catalog</h2><table>
    <tr><th>Product</th><th>Tier</th><th>Prices</th></tr>
    ${view.catalog.map(
      (
        row,
      ) => html`<tr><td>${row.product}</td><td>${row.tier ?? html`<span class="muted">none</span>`}</td>
        <td>${row.prices.join(" · ")}</td></tr>`,
    )}
  </table></div>`;
}

function customersTable(view: DashboardView): SafeHtml {
  return html`<div class="panel"><h2>Customers</h2><table>
    <tr><th>ID</th><th>Email</th><th>Created</th></tr>
    ${view.customers.map(
      (c) => html`<tr><td><code>${c.id}</code></td><td>${c.email ?? ""}</td>
        <td>${formatDateTime(c.created)}</td></tr>`,
    )}
  </table></div>`;
}

function subscriptionsTable(view: DashboardView): SafeHtml {
  return html`<div class="panel"><h2>Subscriptions</h2><table>
    <tr><th>ID</th><th>Customer</th><th>Plan</th><th>Status</th><th>Period ends</th></tr>
    ${view.subscriptions.map(({ subscription: s, plan }) => {
      const end = s.items.data[0]?.current_period_end;
      return html`<tr><td><code>${s.id}</code></td><td><code>${String(s.customer)}</code></td>
        <td>${plan}</td><td><span class="status ${s.status}">${s.status}</span>
        ${s.cancel_at ? html`<span class="muted">cancels</span>` : ""}</td>
        <td>${end ? formatDateTime(end) : ""}</td></tr>`;
    })}
  </table></div>`;
}

function deliveryCell(deliveries: Delivery[]): SafeHtml {
  if (deliveries.length === 0) return html`<span class="muted">no endpoint</span>`;
  return html`${deliveries.map(
    (d) => html`<span class="status ${d.state}" title="${d.url}">${d.state}
      (${d.attempts.length} ${d.attempts.length === 1 ? "attempt" : "attempts"})</span> `,
  )}`;
}

function eventsTable(view: DashboardView): SafeHtml {
  return html`<div class="panel"><h2>Recent events</h2><table>
    <tr><th>Created</th><th>Type</th><th>ID</th><th>Webhooks</th></tr>
    ${view.events.map(
      ({ event, deliveries }) => html`<tr><td>${formatDateTime(event.created)}</td>
        <td>${event.type}</td><td><code>${event.id}</code></td><td>${deliveryCell(deliveries)}</td></tr>`,
    )}
  </table></div>`;
}

function endpointsTable(view: DashboardView): SafeHtml {
  return html`<div class="panel"><h2>Webhook endpoints</h2><table>
    <tr><th>URL</th><th>Events</th><th>Status</th></tr>
    ${view.endpoints.map(
      (e) => html`<tr><td>${e.url}</td><td>${e.enabled_events.join(", ")}</td>
        <td><span class="status">${e.status}</span></td></tr>`,
    )}
  </table></div>`;
}

export function renderDashboardPage(view: DashboardView): string {
  const body = html`
    <div class="panel">
      <h1>Stripe emulator</h1>
      <p class="muted">Point the SDK at <code>${view.baseUrl}</code> with any
        <code>sk_test_…</code> key. Test-only routes live under <code>/_emulator/</code>.</p>
    </div>
    ${catalogTable(view)} ${customersTable(view)} ${subscriptionsTable(view)}
    ${endpointsTable(view)} ${eventsTable(view)}`;
  return stripePage("Stripe emulator", body);
}
