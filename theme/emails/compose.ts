import type {
  EmailSite,
  RenderedEmail,
  TemplateData,
  TemplateName,
} from "../../server/email/templates.ts";
import { emailPalette as colour } from "./palette.ts";

/**
 * How an email is written: each file beside this one says what its email says,
 * once, as a subject, a heading, paragraphs and at most one button. This file
 * turns that into the HTML body and the plain-text body, so the two never say
 * different things, every piece of reader data is escaped in the HTML, and
 * every link is absolute (a mail client has no page to resolve a path against).
 */

/** A link: `url` may be a path on the site ("/account/") or a full address. */
export interface Link {
  kind: "link";
  label: string;
  url: string;
}

/** Text set in bold in the HTML body and left as it is in the text body. */
export interface Strong {
  kind: "strong";
  text: string;
}

export type Inline = string | Link | Strong;

/** One paragraph: a sentence, or pieces of text and links in reading order. */
export type Paragraph = Inline | readonly Inline[];

export interface EmailContent {
  subject: string;
  heading: string;
  /** Before the button. */
  paragraphs: readonly Paragraph[];
  /** The one thing the reader should do, shown as a button. */
  action?: { label: string; url: string };
  /** After the button: expiry notes, "if this wasn't you". */
  closing?: readonly Paragraph[];
}

export type EmailTemplate<T extends TemplateName> = (
  data: TemplateData[T],
  site: EmailSite,
) => RenderedEmail;

export function link(label: string, url: string): Link {
  return { kind: "link", label, url };
}

export function strong(text: string): Strong {
  return { kind: "strong", text };
}

/** Declares one email: its words, from the queued data and the publication. */
export function defineEmail<T extends TemplateName>(
  write: (data: TemplateData[T], site: EmailSite) => EmailContent,
): EmailTemplate<T> {
  return (data, site) => {
    const content = write(data, site);
    return {
      subject: oneLine(content.subject),
      html: renderHtml(content, site),
      text: renderText(content, site),
    };
  };
}

/** "14 March 2026": emails are read anywhere, so dates are spelled out, in UTC. */
export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** "14:05 UTC on 14 March 2026". */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return `${timeFormat.format(date)} UTC on ${dateFormat.format(date)}`;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});

const timeFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

/** A link's address made absolute against the publication's URL. */
export function absoluteUrl(url: string, site: EmailSite): string {
  return new URL(url, site.url).href;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function pieces(paragraph: Paragraph): readonly Inline[] {
  return typeof paragraph === "string" || !Array.isArray(paragraph)
    ? [paragraph as Inline]
    : paragraph;
}

function inlineHtml(piece: Inline, site: EmailSite): string {
  if (typeof piece === "string") return escapeHtml(piece);
  if (piece.kind === "strong") return `<strong>${escapeHtml(piece.text)}</strong>`;
  const href = escapeHtml(absoluteUrl(piece.url, site));
  return `<a href="${href}" style="color:${colour.accent}">${escapeHtml(piece.label)}</a>`;
}

function inlineText(piece: Inline, site: EmailSite): string {
  if (typeof piece === "string") return piece;
  if (piece.kind === "strong") return piece.text;
  return `${piece.label} (${absoluteUrl(piece.url, site)})`;
}

function paragraphHtml(paragraph: Paragraph, site: EmailSite): string {
  const body = pieces(paragraph)
    .map((piece) => inlineHtml(piece, site))
    .join("");
  return `<p style="margin:0 0 16px">${body}</p>`;
}

function paragraphText(paragraph: Paragraph, site: EmailSite): string {
  return pieces(paragraph)
    .map((piece) => inlineText(piece, site))
    .join("");
}

function buttonHtml(action: EmailContent["action"], site: EmailSite): string {
  if (!action) return "";
  const href = escapeHtml(absoluteUrl(action.url, site));
  return `<p style="margin:24px 0">
      <a href="${href}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:${colour.accent};color:${colour.accentInk};text-decoration:none;font-family:Helvetica,Arial,sans-serif;font-size:15px">${escapeHtml(action.label)}</a>
    </p>`;
}

function renderHtml(content: EmailContent, site: EmailSite): string {
  const home = escapeHtml(absoluteUrl("/", site));
  const name = escapeHtml(site.name);
  const body = [
    `<h1 style="font-size:22px;margin:0 0 20px">${escapeHtml(content.heading)}</h1>`,
    ...content.paragraphs.map((paragraph) => paragraphHtml(paragraph, site)),
    buttonHtml(content.action, site),
    ...(content.closing ?? []).map((paragraph) => paragraphHtml(paragraph, site)),
  ].filter((part) => part !== "");

  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${escapeHtml(oneLine(content.subject))}</title></head>
  <body style="margin:0;padding:24px;background:${colour.background}">
    <div style="font-family:Georgia,serif;font-size:16px;line-height:1.5;color:${colour.ink};max-width:560px">
    ${body.join("\n    ")}
    <p style="margin:32px 0 0;color:${colour.muted};font-size:13px"><a href="${home}" style="color:${colour.muted}">${name}</a></p>
    </div>
  </body>
</html>`;
}

function renderText(content: EmailContent, site: EmailSite): string {
  const blocks = [
    content.heading,
    ...content.paragraphs.map((paragraph) => paragraphText(paragraph, site)),
    ...(content.action
      ? [`${content.action.label}: ${absoluteUrl(content.action.url, site)}`]
      : []),
    ...(content.closing ?? []).map((paragraph) => paragraphText(paragraph, site)),
    `-- \n${site.name}\n${absoluteUrl("/", site)}`,
  ];
  return `${blocks.join("\n\n")}\n`;
}
