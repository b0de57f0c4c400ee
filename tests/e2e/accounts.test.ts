import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * A new reader's address, confirmed in Chromium: the reminder every page
 * shows after sign-up, the link read out of the Resend emulator's inbox as it
 * reached the reader, the confirmation page's button, and the reminder gone.
 */

let stack: Stack;
let browser: Browser;
let page: Page;
const email = `confirm.${Date.now()}@example.com`;

beforeAll(async () => {
  stack = await startStack({ env: { EMAIL_POLL_MS: "100" } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface InboxEmail {
  subject: string;
  text: string | null;
  idempotency_key: string | null;
}

/** The confirmation link, as the Resend emulator's inbox API shows the email. */
async function confirmationLink(to: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(
      `${stack.resendUrl}/_emulator/emails?to=${encodeURIComponent(to)}`,
    );
    const emails = (await response.json()) as InboxEmail[];
    const confirm = emails.find((e) => e.idempotency_key?.startsWith("verify-email:"));
    const link = confirm?.text?.match(/https?:\/\/\S+\/verify-email\/#token=[\w-]+/)?.[0];
    if (link) return link;
    if (Date.now() > deadline) throw new Error(`No confirmation email reached ${to}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function reminder() {
  return page.getByTestId("verify-reminder");
}

/** Once the page knows who is signed in, the reminder has had its chance to show. */
async function expectSignedInWithoutReminder(): Promise<void> {
  await expect.poll(() => page.getByTestId("nav-account").isVisible()).toBe(true);
  expect(await reminder().isVisible()).toBe(false);
}

describe("confirming a new reader's address in the browser", () => {
  it("reminds the reader on every page after sign-up", async () => {
    await page.goto(`${stack.baseUrl}/signup/`);
    await page.getByTestId("email").fill(email);
    await page.getByTestId("password").fill("a long enough password");
    await page.getByTestId("signup-submit").click();
    await page.waitForURL(/\/account\//);

    await expect.poll(() => reminder().isVisible()).toBe(true);
    expect(await reminder().textContent()).toContain(email);
    await page.goto(`${stack.baseUrl}/posts/`);
    await expect.poll(() => reminder().isVisible()).toBe(true);
  });

  it("confirms the address from the emailed link, and the reminder is gone", async () => {
    const link = await confirmationLink(email);
    expect(link.startsWith(`${stack.baseUrl}/verify-email/#token=`)).toBe(true);

    await page.goto(link);
    await page.getByTestId("verify-email-confirm").click();
    await page.waitForURL(`${stack.baseUrl}/account/`);
    const notice = page.getByTestId("account-page-notice");
    await expect
      .poll(() => notice.textContent())
      .toBe("Thank you: your email address is confirmed.");

    // Shown once: the page took it out of its cookie.
    await page.reload();
    await expect.poll(() => page.getByTestId("account-email").isVisible()).toBe(true);
    expect(await notice.isVisible()).toBe(false);

    await expectSignedInWithoutReminder();
    await page.goto(`${stack.baseUrl}/posts/`);
    await expectSignedInWithoutReminder();
  });
});
