/*
 * A little HTML templating for the emulators' pages: `html` escapes every
 * interpolated value unless it is itself `html` output, so request data (an
 * email body, a product name) can never inject markup.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

type Interpolation =
  | SafeHtml
  | string
  | number
  | null
  | undefined
  | false
  | Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(String(value));
}

export function html(
  strings: TemplateStringsArray,
  ...values: Interpolation[]
): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? "");
  });
  return new SafeHtml(out);
}

const STYLES = `
  :root { color-scheme: light; --ink: #1a1f36; --muted: #697386; --line: #e3e8ee;
    --accent: #635bff; --danger: #c0123c; --ok: #0e7c3a; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
    color: var(--ink); background: #f6f9fc; }
  .banner { background: #ffde92; color: #5c3b00; text-align: center; font-size: 13px;
    padding: 6px; }
  main { max-width: 960px; margin: 32px auto; padding: 0 20px; }
  .panel { background: #fff; border: 1px solid var(--line); border-radius: 10px;
    padding: 24px; margin-bottom: 20px; }
  .narrow { max-width: 460px; margin-left: auto; margin-right: auto; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 0 0 12px; }
  .muted { color: var(--muted); } .amount { font-size: 28px; font-weight: 600; }
  label { display: block; font-size: 13px; font-weight: 600; margin: 14px 0 4px; }
  input, select { width: 100%; padding: 9px 10px; font: inherit; border: 1px solid #cfd7df;
    border-radius: 6px; }
  .row { display: flex; gap: 12px; } .row > div { flex: 1; }
  .hint { font-size: 12px; color: var(--muted); margin-top: 4px; }
  button { font: inherit; font-weight: 600; border: 0; border-radius: 6px; padding: 10px 16px;
    cursor: pointer; background: var(--accent); color: #fff; }
  button.secondary { background: #fff; color: var(--ink); border: 1px solid #cfd7df; }
  .wide { width: 100%; margin-top: 20px; }
  .error { background: #fde8ec; color: var(--danger); border-radius: 6px; padding: 10px 12px;
    margin-top: 16px; }
  .notice { background: #e6f6ec; color: var(--ok); border-radius: 6px; padding: 10px 12px;
    margin-bottom: 16px; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--line);
    vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
  code { font-size: 12px; background: #f0f3f7; padding: 1px 4px; border-radius: 4px; }
  .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
    background: #f0f3f7; }
  .status.active, .status.trialing, .status.succeeded { background: #d7f7c2; color: #05690d; }
  .status.past_due, .status.pending { background: #fcedb9; color: #a04b00; }
  .status.canceled, .status.failed { background: #ffe7f2; color: #b3093c; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; margin-top: 12px; }
  .actions form { margin: 0; } .actions select { width: auto; }
  a { color: var(--accent); }
`;

/** A complete page, with a banner saying which emulator served it. */
export function page(title: string, banner: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(STYLES)}</style>
</head>
<body>
<div class="banner">${banner}</div>
<main>${body}</main>
</body>
</html>`.value;
}
