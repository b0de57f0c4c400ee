import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/stack.ts";
import { launchChromium } from "../helpers/browser.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * The reader's journey clicked through the real pages in Chromium: the landing
 * page's pricing table, a locked post, sign-up, the emulator's Checkout page,
 * and the unlocked post.
 */

const screenshots = join(repoRoot, "tests/e2e/screenshots");

let stack: Stack;
let browser: Browser;
let page: Page;
let core: ReturnType<typeof gatedPage>;

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack();
  core = gatedPage(stack.distDir, "core");
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("a new reader in the browser", () => {
  it("sees the tiers and their prices on the landing page", async () => {
    await page.goto(`${stack.baseUrl}/`);
    const coreCard = page.locator('[data-testid="tier-card"][data-tier="core"]');
    await expect.poll(() => coreCard.textContent()).toContain("Core Stacker");
    await expect.poll(() => coreCard.textContent()).toMatch(/\$\d+/);
    await page.screenshot({ path: join(screenshots, "landing.png"), fullPage: true });
  });

  it("switches the pricing table to yearly prices", async () => {
    const coreCard = page.locator('[data-testid="tier-card"][data-tier="core"]');
    const monthly = await coreCard.textContent();
    await page.getByTestId("interval-year").click();
    await expect.poll(() => coreCard.textContent()).not.toBe(monthly);
    await page.getByTestId("interval-month").click();
  });

  it("sees why a checkout did not start, as text", async () => {
    const message = "That plan is not for sale. <b>bold</b>";
    await page.goto(`${stack.baseUrl}/?error=${encodeURIComponent(message)}#pricing`);
    const error = page.getByTestId("checkout-error");
    await expect.poll(() => error.textContent()).toBe(message);
    expect(await error.locator("b").count()).toBe(0);
  });

  it("meets the paywall on a Core post", async () => {
    await page.goto(`${stack.baseUrl}${core.path}`);
    await expect.poll(() => page.getByTestId("paywall").isVisible()).toBe(true);
    await page.screenshot({ path: join(screenshots, "locked.png"), fullPage: true });
  });

  it("signs up", async () => {
    await page.goto(`${stack.baseUrl}/signup/`);
    await page.fill('input[name="email"]', `browser.${Date.now()}@example.com`);
    await page.fill('input[name="password"]', "a long enough password");
    await page.getByTestId("signup-form").locator('button[type="submit"]').click();
    await page.waitForURL(/\/account\//);
    await expect
      .poll(() => page.getByTestId("account-tier").textContent())
      .toContain("Free");
  });

  it("subscribes to Core and pays on the Checkout page", async () => {
    await page.goto(`${stack.baseUrl}/`);
    await page
      .locator('[data-testid="tier-card"][data-tier="core"]')
      .getByTestId("subscribe-button")
      .click();
    await page.waitForURL((url) => url.toString().startsWith(stack.stripeUrl));

    await page.fill('input[name="card_number"]', "4242 4242 4242 4242");
    await page.fill('input[name="card_expiry"]', "12 / 34");
    await page.fill('input[name="card_cvc"]', "123");
    await page.locator('button[type="submit"]').click();

    await page.waitForURL(/\/account\/\?checkout=success/);
    await expect
      .poll(() => page.getByTestId("account-tier").textContent())
      .toContain("Core Stacker");
  });

  it("reads the whole Core post", async () => {
    await page.goto(`${stack.baseUrl}${core.path}`);
    await expect.poll(() => page.getByTestId("post-body").isVisible()).toBe(true);
    expect(await page.getByTestId("paywall").count()).toBe(0);
    await page.screenshot({ path: join(screenshots, "unlocked.png"), fullPage: true });
  });
});
