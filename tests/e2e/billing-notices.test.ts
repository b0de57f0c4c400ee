import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { type Billing, billingFor } from "../helpers/billing.ts";
import { launchChromium } from "../helpers/browser.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * What the pages tell a reader about their billing, rendered in Chromium: the
 * payment notice on every page while a renewal is unpaid, the account page's
 * notice, the end date of a scheduled cancellation, and complimentary access
 * labelled as such. Each state is made the way it happens: Checkout on the
 * emulator's hosted page, a declined renewal, the Billing Portal, the SDK, and
 * the operator's `npm run access`.
 */

const run = promisify(execFile);

let stack: Stack;
let billing: Billing;
let browser: Browser;
let corePage: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  stack = await startStack();
  billing = billingFor(stack);
  corePage = gatedPage(stack.distDir, "core");
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The account page writes dates in the browser's locale and time zone, set below. */
const longDate = new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeZone: "UTC" });

/** A browser tab signed in as the reader, with its session cookie. */
async function pageFor(reader: Reader): Promise<Page> {
  const context = await browser.newContext({ locale: "en-US", timezoneId: "UTC" });
  const [name = "", value = ""] = reader.cookie.split("=");
  await context.addCookies([{ name, value, url: stack.baseUrl }]);
  return context.newPage();
}

async function openAccount(page: Page): Promise<void> {
  await page.goto(`${stack.baseUrl}/account/`);
  await sessionLoaded(page);
  await expect.poll(() => page.getByTestId("account-email").isVisible()).toBe(true);
}

async function subscribed(tier: string, interval = "month"): Promise<Reader> {
  const reader = await stack.signUp();
  await billing.subscribe(reader, await billing.priceOf(tier, interval));
  await stack.flushWebhooks();
  return reader;
}

/** Waits until the page's scripts have asked the server who is signed in. */
async function sessionLoaded(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const alpine = (window as { Alpine?: { store(name: string): unknown } }).Alpine;
    return (alpine?.store("session") as { loaded?: boolean } | undefined)?.loaded;
  });
}

async function textOf(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? "").trim();
}

describe("a reader whose renewal payment failed", () => {
  let reader: Reader;
  let page: Page;

  beforeAll(async () => {
    reader = await subscribed("core");
    const [row] = billing.storedSubscriptions(reader);
    await billing.emulator.failPayment(row?.id ?? "");
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toMatchObject([{ status: "past_due" }]);
    page = await pageFor(reader);
  });

  it("sees the payment notice on a gated Core post, which still opens in full", async () => {
    await page.goto(`${stack.baseUrl}${corePage.path}`);

    const notice = page.getByTestId("payment-notice");
    await expect.poll(() => notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toContain("Your last payment did not go through.");
    expect(await notice.getByRole("button", { name: "Update payment" }).count()).toBe(1);
    expect(await page.getByTestId("post-body").isVisible()).toBe(true);
    expect(await page.getByTestId("paywall").count()).toBe(0);
  });

  it("sees the notice on the account page too, beside an overdue status", async () => {
    await openAccount(page);

    const notice = page.getByTestId("account-notice");
    await expect.poll(() => notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toContain(
      "Update your card, or confirm the payment",
    );
    expect(await textOf(page, "account-status")).toBe("Payment overdue");
  });

  it("once the grace period is over, is told the plan is paused and meets the paywall", async () => {
    // The grace counts on the server's clock from when it first saw past_due,
    // which the emulator's clock cannot move; the other tests move it back too.
    const db = stack.openDb();
    db.prepare(
      "UPDATE subscription SET past_due_since = past_due_since - ? WHERE user_id = ?",
    ).run(8 * 86_400, billing.userOf(reader).id);
    db.close();

    await page.goto(`${stack.baseUrl}${corePage.path}`);
    const notice = page.getByTestId("payment-notice");
    await expect.poll(() => notice.textContent()).toContain("plan is paused");
    expect(await page.getByTestId("paywall").isVisible()).toBe(true);
  });
});

describe("a reader with a scheduled cancellation", () => {
  it("at period end sees on the account page when the plan ends", async () => {
    const reader = await subscribed("core");
    await billing.inPortal(reader, "cancel");
    await stack.flushWebhooks();
    const [row] = billing.query<{ cancel_at: number; cancel_at_period_end: number }>(
      "SELECT cancel_at, cancel_at_period_end FROM subscription WHERE user_id = ?",
      billing.userOf(reader).id,
    );
    expect(row?.cancel_at_period_end).toBe(1);

    const page = await pageFor(reader);
    await openAccount(page);
    expect(await textOf(page, "account-status")).toBe("Active, cancellation scheduled");
    expect(await page.locator("dt", { hasText: "Ends on" }).isVisible()).toBe(true);
    expect(await textOf(page, "account-renewal")).toBe(
      longDate.format(new Date((row?.cancel_at ?? 0) * 1000)),
    );
    expect(await page.getByTestId("payment-notice").isVisible()).toBe(false);
  });

  it("at a set date sees that date on the account page", async () => {
    const reader = await subscribed("lightning", "year");
    const subscription = await billing.stripeSubscription(reader);
    const cancelAt = (await billing.emulator.now()) + 45 * 86_400;
    await stack.stripe.subscriptions.update(subscription.id, { cancel_at: cancelAt });
    await stack.flushWebhooks();
    expect(billing.storedSubscriptions(reader)).toMatchObject([
      { status: "active", cancel_at: cancelAt, cancel_at_period_end: 0 },
    ]);

    const page = await pageFor(reader);
    await openAccount(page);
    expect(await textOf(page, "account-status")).toBe("Active, cancellation scheduled");
    expect(await page.locator("dt", { hasText: "Ends on" }).isVisible()).toBe(true);
    expect(await textOf(page, "account-renewal")).toBe(
      longDate.format(new Date(cancelAt * 1000)),
    );
  });
});

describe("a reader with complimentary access", () => {
  it("sees it on the account page, labelled as complimentary and not as a paid plan", async () => {
    const reader = await stack.signUp();
    await run(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/access.ts",
        "grant",
        reader.email,
        "core",
        "--until",
        "2099-01-31",
      ],
      { cwd: repoRoot, env: { ...process.env, DATABASE_PATH: stack.databasePath } },
    );

    const page = await pageFor(reader);
    await openAccount(page);
    await expect
      .poll(() => textOf(page, "account-complimentary"))
      .toBe("Complimentary Core Stacker until 31 January 2099");
    expect(await textOf(page, "account-tier")).toBe("Core Stacker");
    expect(await textOf(page, "account-status")).toBe("No subscription");
    expect(await page.getByTestId("choose-plan").isVisible()).toBe(true);

    await page.goto(`${stack.baseUrl}${corePage.path}`);
    await sessionLoaded(page);
    expect(await page.getByTestId("post-body").isVisible()).toBe(true);
    expect(await page.getByTestId("payment-notice").isVisible()).toBe(false);
  });
});
