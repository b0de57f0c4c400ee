import { escapeHtml } from "../http/html.ts";

/**
 * Transactional email templates: plain functions from data to a subject, an
 * HTML body and a text body. Every reader gets both bodies; the text one is what
 * many mail clients preview and what screen readers often read.
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

/** The data each template needs, stored as JSON in the outbox row. */
export interface TemplateData {
  welcome: { email: string };
}

export type TemplateName = keyof TemplateData;

type Renderers = {
  [T in TemplateName]: (data: TemplateData[T], site: EmailSite) => RenderedEmail;
};

const renderers: Renderers = {
  welcome: welcomeEmail,
};

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

export function welcomeEmail(
  data: TemplateData["welcome"],
  site: EmailSite,
): RenderedEmail {
  const accountUrl = new URL("/account/", site.url).href;
  const homeUrl = new URL("/", site.url).href;

  const subject = `Welcome to ${site.name}`;
  const text = [
    `Welcome to ${site.name}.`,
    "",
    `Your account for ${data.email} is ready, and the free posts are yours to read.`,
    `To read more, choose a plan on your account page: ${accountUrl}`,
    "",
    `Start reading: ${homeUrl}`,
  ].join("\n");
  const html = layout(
    site,
    `<h1 style="font-size:22px">Welcome to ${escapeHtml(site.name)}</h1>
     <p>Your account for <strong>${escapeHtml(data.email)}</strong> is ready, and the
     free posts are yours to read.</p>
     <p>To read more, choose a plan on
     <a href="${escapeHtml(accountUrl)}">your account page</a>.</p>
     <p><a href="${escapeHtml(homeUrl)}">Start reading</a></p>`,
  );
  return { subject, html, text };
}

function layout(site: EmailSite, body: string): string {
  return `<!doctype html>
<html lang="en">
  <body style="font-family:Georgia,serif;line-height:1.5;color:#1d1d1f;max-width:560px">
    ${body}
    <p style="color:#6e6e73;font-size:13px">${escapeHtml(site.name)}</p>
  </body>
</html>`;
}
