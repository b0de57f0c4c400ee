import { html, page, type SafeHtml } from "../shared/html.ts";
import type { ReceivedEmail } from "./emails.ts";

const BANNER = "Tierwall's local Resend emulator · nothing leaves this machine";

const timeFormat = new Intl.DateTimeFormat("en-US", {
  dateStyle: "medium",
  timeStyle: "medium",
  timeZone: "UTC",
});

function when(email: ReceivedEmail): string {
  return `${timeFormat.format(new Date(email.created_at))} UTC`;
}

/** GET /: what arrived, newest first. */
export function renderInbox(emails: ReceivedEmail[]): string {
  const rows = [...emails].reverse().map(
    (email) => html`<tr>
      <td>${when(email)}</td>
      <td>${email.to.join(", ")}</td>
      <td><a href="/view/${email.id}">${email.subject}</a></td>
      <td class="muted">${email.from}</td>
    </tr>`,
  );
  const body = html`<div class="panel">
      <h1>Inbox</h1>
      <p class="muted">Every email Tierwall sent through this emulator. Newest first.</p>
    </div>
    <div class="panel">${
      emails.length === 0
        ? html`<p>Nothing has arrived yet.</p>`
        : html`<table><tr><th>Received</th><th>To</th><th>Subject</th><th>From</th></tr>${rows}</table>`
    }</div>`;
  return page("Inbox · Resend emulator", BANNER, body);
}

function messageBody(email: ReceivedEmail): SafeHtml {
  if (email.html !== null) {
    return html`<iframe title="Email body" src="/view/${email.id}/html"
      sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
      style="width:100%;min-height:480px;border:1px solid #e3e8ee;border-radius:6px"></iframe>
      <p><a href="/view/${email.id}/html" id="open-html">Open the HTML on its own</a></p>`;
  }
  return html`<pre style="white-space:pre-wrap">${email.text ?? ""}</pre>`;
}

/** GET /view/:id: the headers and the body of one email. */
export function renderEmail(email: ReceivedEmail): string {
  const body = html`<p><a href="/">← Inbox</a></p>
    <div class="panel">
      <h1>${email.subject}</h1>
      <table>
        <tr><th>From</th><td>${email.from}</td></tr>
        <tr><th>To</th><td>${email.to.join(", ")}</td></tr>
        ${email.cc ? html`<tr><th>Cc</th><td>${email.cc.join(", ")}</td></tr>` : ""}
        ${email.reply_to ? html`<tr><th>Reply to</th><td>${email.reply_to.join(", ")}</td></tr>` : ""}
        <tr><th>Received</th><td>${when(email)}</td></tr>
        <tr><th>ID</th><td><code>${email.id}</code></td></tr>
      </table>
    </div>
    <div class="panel">${messageBody(email)}</div>
    ${
      email.text && email.html !== null
        ? html`<div class="panel"><h2>Plain text</h2><pre style="white-space:pre-wrap">${email.text}</pre></div>`
        : ""
    }`;
  return page(`${email.subject} · Resend emulator`, BANNER, body);
}

export function renderNotFound(): string {
  return page(
    "Not found · Resend emulator",
    BANNER,
    html`<div class="panel"><h1>No such email</h1></div>`,
  );
}
