import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The site's notice and error boxes in Chromium: they show what this site's
 * own form answers said, once, and never text that arrived in the address,
 * which anyone can write into a link.
 */

let stack: Stack;
let browser: Browser;
let reader: Reader;

const FORGED = "Your card was declined. Re-enter it at http://evil.example/pay";

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  reader = await stack.signUp();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function newTab(
  signedIn: boolean,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  if (signedIn) {
    const [name = "", value = ""] = reader.cookie.split("=");
    await context.addCookies([{ name, value, url: stack.baseUrl }]);
  }
  return { context, page: await context.newPage() };
}

/** Waits until the page's scripts have asked the server who is signed in. */
async function sessionLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const alpine = (window as { Alpine?: { store(name: string): unknown } }).Alpine;
    return (alpine?.store("session") as { loaded?: boolean } | undefined)?.loaded;
  });
}

const forgedQuery = `notice=${encodeURIComponent(FORGED)}&error=${encodeURIComponent(FORGED)}`;

describe("a link that carries ?notice= or ?error=", () => {
  const pages: [path: string, signedIn: boolean, boxes: string[]][] = [
    ["/account/", true, ["account-page-notice", "account-page-error"]],
    ["/account/", false, ["account-page-notice", "account-page-error"]],
    ["/login/", false, ["form-notice", "form-error"]],
    ["/signup/", false, ["form-error"]],
    ["/reset-password/", false, ["form-notice", "form-error"]],
    ["/verify-email/", false, ["form-error"]],
    ["/", false, ["checkout-error"]],
  ];

  for (const [path, signedIn, boxes] of pages) {
    const who = signedIn ? "a signed-in reader" : "a visitor";
    it(`shows nothing of it on ${path} to ${who}`, async () => {
      const { context, page } = await newTab(signedIn);
      await page.goto(`${stack.baseUrl}${path}?${forgedQuery}`);
      await sessionLoaded(page);

      for (const box of boxes) {
        expect(await page.getByTestId(box).isVisible(), box).toBe(false);
      }
      expect(await page.textContent("body")).not.toContain("evil.example");
      await context.close();
    });
  }
});

describe("a failed form post", () => {
  it("shows the server's error on the page it returns to, once", async () => {
    const { context, page } = await newTab(false);
    await page.goto(`${stack.baseUrl}/login/?next=/posts/`);
    await page.getByTestId("email").fill(reader.email);
    await page.getByTestId("password").fill("not the password at all");
    await page.getByTestId("login-submit").click();

    await page.waitForURL(`${stack.baseUrl}/login/?next=%2Fposts%2F`);
    const error = page.getByTestId("form-error");
    await expect.poll(() => error.textContent()).toBe("Wrong email or password.");
    expect(await page.getByTestId("form-notice").isVisible()).toBe(false);

    await page.reload();
    await sessionLoaded(page);
    expect(await error.isVisible()).toBe(false);
    await context.close();
  });

  it("shows a notice on the page it returns to, once", async () => {
    const { context, page } = await newTab(false);
    await page.goto(`${stack.baseUrl}/login/`);
    await page.getByTestId("signin-link-email").fill(reader.email);
    await page.getByTestId("signin-link-submit").click();

    await page.waitForURL(`${stack.baseUrl}/login/`);
    const notice = page.getByTestId("form-notice");
    await expect.poll(() => notice.textContent()).toMatch(/a sign-in link is on its way/);

    await page.reload();
    await sessionLoaded(page);
    expect(await notice.isVisible()).toBe(false);
    await context.close();
  });
});

describe("a message left for a page", () => {
  /** A flash cookie as the server writes it, for a page and with a message. */
  async function leave(context: BrowserContext, page: string, message: string) {
    const value = encodeURIComponent(JSON.stringify({ page, kind: "error", message }));
    await context.addCookies([{ name: "tierwall_flash", value, url: stack.baseUrl }]);
  }

  it("waits for its own page, and another page leaves it alone", async () => {
    const { context, page } = await newTab(false);
    await leave(context, "/signup/", "That address already has an account.");

    await page.goto(`${stack.baseUrl}/login/`);
    await sessionLoaded(page);
    expect(await page.getByTestId("form-error").isVisible()).toBe(false);

    await page.goto(`${stack.baseUrl}/signup/`);
    await expect
      .poll(() => page.getByTestId("form-error").textContent())
      .toBe("That address already has an account.");
    await context.close();
  });

  it("is shown as text, never as markup", async () => {
    const { context, page } = await newTab(false);
    const message = "Not for sale. <b>bold</b>";
    await leave(context, "/", message);

    await page.goto(`${stack.baseUrl}/#pricing`);
    const error = page.getByTestId("checkout-error");
    await expect.poll(() => error.textContent()).toBe(message);
    expect(await error.locator("b").count()).toBe(0);
    await context.close();
  });
});
