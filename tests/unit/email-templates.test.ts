import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type EmailSite,
  renderEmail,
  type TemplateData,
  type TemplateName,
  templateNames,
} from "../../server/email/templates.ts";
import { emailPalette, paletteSource } from "../../theme/emails/palette.ts";

/**
 * Every email in theme/emails/ renders a subject, an HTML body and a text body
 * from its queued data; reader data is escaped in the HTML; every link in
 * either body is absolute, on the publication's URL or the one queued.
 */

const site: EmailSite = { name: "Bits & <Bytes>", url: "https://stacker.example/" };

/** Markup a reader could type into their address or that could reach a tier name. */
const hostile = `<img src=x onerror="alert('x')">&`;
const hostileAddress = `mara+${hostile}@example.com`;
const actionUrl = "https://stacker.example/api/auth/verify?token=abc&next=%2Faccount%2F";

const samples: { [T in TemplateName]: TemplateData[T] } = {
  "verify-email": {
    email: hostileAddress,
    url: actionUrl,
    expiresAt: "2026-03-14T14:05:00.000Z",
  },
  "sign-in-link": {
    email: hostileAddress,
    url: actionUrl,
    expiresAt: "2026-03-14T14:05:00.000Z",
  },
  "password-reset": {
    email: hostileAddress,
    url: actionUrl,
    expiresAt: "2026-03-14T14:05:00.000Z",
  },
  "email-changed": { oldEmail: hostileAddress, newEmail: `new${hostileAddress}` },
  welcome: { email: hostileAddress },
  "subscription-started": {
    tierName: `Core ${hostile}`,
    interval: "month",
    renewsAt: "2026-04-14T00:00:00.000Z",
  },
  "plan-changed": { fromTierName: `Spark ${hostile}`, toTierName: `Core ${hostile}` },
  "cancellation-scheduled": {
    tierName: `Core ${hostile}`,
    endsAt: "2026-04-14T00:00:00.000Z",
  },
  "payment-failed": {
    tierName: `Core ${hostile}`,
    graceEndsAt: "2026-03-21T00:00:00.000Z",
  },
  "subscription-ended": { tierName: `Core ${hostile}` },
};

function render(name: TemplateName) {
  return renderEmail(name, samples[name] as never, site);
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? "");
}

function textUrls(text: string): string[] {
  return [...text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi)].map((m) => m[0]);
}

describe("the email templates", () => {
  it("cover every template the outbox can queue", () => {
    expect([...templateNames].sort()).toEqual(Object.keys(samples).sort());
  });

  describe.each(templateNames)("%s", (name) => {
    it("renders a subject, an HTML body and a text body", () => {
      const email = render(name);

      expect(email.subject.length).toBeGreaterThan(5);
      expect(email.subject).not.toMatch(/[\r\n]/);
      expect(email.html).toMatch(/^<!doctype html>/);
      expect(email.html).toContain("</html>");
      expect(email.text.length).toBeGreaterThan(40);
      expect(email.text).not.toMatch(/<\/?(p|a|strong|h1|div|body)\b/);
    });

    it("names the publication and links to it in both bodies", () => {
      const email = render(name);

      expect(email.html).toContain("Bits &amp; &lt;Bytes&gt;");
      expect(email.html).toContain('href="https://stacker.example/"');
      expect(email.text).toContain("Bits & <Bytes>");
      expect(email.text).toContain("https://stacker.example/");
    });

    it("escapes the reader's data in the HTML body", () => {
      const { html } = render(name);

      expect(html).not.toContain("<img");
      expect(html).not.toContain(`onerror="`);
      expect(html).toContain(
        "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;",
      );
    });

    it("has only absolute links", () => {
      const { html, text } = render(name);
      const links = [...hrefs(html), ...textUrls(text)];

      expect(links.length).toBeGreaterThan(0);
      for (const link of links) {
        expect(new URL(link).protocol).toMatch(/^https?:$/);
      }
      expect(html).not.toMatch(/href="\//);
    });
  });

  it.each(["verify-email", "sign-in-link", "password-reset"] as const)(
    "%s carries its queued link, intact, in both bodies",
    (name) => {
      const { html, text } = render(name);

      expect(hrefs(html)).toContain(actionUrl.replaceAll("&", "&amp;"));
      expect(text).toContain(actionUrl);
      expect(text).toContain("14:05 UTC on 14 March 2026");
    },
  );

  it("verify-email speaks of a sign-up, or of a move when the address is a change", () => {
    const signUp = render("verify-email");
    const move = renderEmail(
      "verify-email",
      { ...samples["verify-email"], reason: "change" },
      site,
    );

    expect(signUp.text).toContain("If you did not sign up for Bits & <Bytes>");
    expect(move.subject).toBe("Confirm your new email address for Bits & <Bytes>");
    expect(move.text).toContain("Someone asked to move a Bits & <Bytes> account to");
    expect(move.text).toContain(
      "If it was not you, ignore this email; the account stays where it is.",
    );
    expect(move.text).not.toContain("sign up");
    expect(move.html).toContain("Bits &amp; &lt;Bytes&gt; account to");
    expect(hrefs(move.html)).toContain(actionUrl.replaceAll("&", "&amp;"));
  });

  it("welcome links to the account page", () => {
    const { subject, text } = render("welcome");
    expect(subject).toBe("Welcome to Bits & <Bytes>");
    expect(text).toContain("https://stacker.example/account/");
  });

  it("subscription-started tells the renewal date and interval", () => {
    const { text } = render("subscription-started");
    expect(text).toContain("renews every month; the next renewal is on 14 April 2026");
  });

  it("payment-failed gives the end of the grace period, or none", () => {
    expect(render("payment-failed").text).toContain("until 21 March 2026");
    const noGrace = renderEmail(
      "payment-failed",
      { tierName: "Core", graceEndsAt: null },
      site,
    );
    expect(noGrace.text).not.toContain("until");
  });

  it("subscription-ended says why access stopped", () => {
    const ended = (reason?: "canceled" | "unpaid" | "expired") =>
      renderEmail("subscription-ended", { tierName: "Core", reason }, site).subject;

    expect(ended()).toBe("Your Core subscription has ended");
    expect(ended("canceled")).toBe("Your Core subscription has ended");
    expect(ended("unpaid")).toBe("Your Core subscription is paused");
    expect(ended("expired")).toBe("Your Core subscription did not start");
  });

  it("paints in the site's own colours, each copied from its site.css variable", () => {
    const css = readFileSync(
      new URL("../../theme/assets/site.css", import.meta.url),
      "utf8",
    );
    for (const [name, variable] of Object.entries(paletteSource)) {
      const declared = css.match(new RegExp(`\\s${variable}:\\s*([^;]+);`))?.[1];
      expect(declared?.trim(), variable).toBe(
        emailPalette[name as keyof typeof emailPalette],
      );
    }

    const allowed = new Set<string>(Object.values(emailPalette));
    for (const name of templateNames) {
      const { html } = render(name);
      const colours = html.match(/#[0-9a-fA-F]{3,8}\b/g) ?? [];
      expect(colours.length, name).toBeGreaterThan(0);
      expect(
        colours.filter((colour) => !allowed.has(colour)),
        name,
      ).toEqual([]);
    }
    expect(render("welcome").html).toContain(`background:${emailPalette.accent}`);
  });
});
