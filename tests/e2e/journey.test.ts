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

/** Posts a form from the page, as a browser does: the server answers with a 303. */
async function postFormFromPage(
  on: Page,
  action: string,
  fields: Record<string, string>,
): Promise<void> {
  await on.evaluate(
    ({ action, fields }) => {
      const form = document.createElement("form");
      form.method = "post";
      form.action = action;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    },
    { action, fields },
  );
}

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

  it("offers the yearly saving Stripe's prices give, to the nearest percent", async () => {
    const { tiers } = (await (await fetch(`${stack.baseUrl}/api/pricing`)).json()) as {
      tiers: { prices: { interval: string; amount: number }[] }[];
    };
    const savings = tiers.map((tier) => {
      const amount = (interval: string) =>
        tier.prices.find((price) => price.interval === interval)?.amount ?? 0;
      return 1 - amount("year") / (amount("month") * 12);
    });
    const percent = Math.round(Math.min(...savings) * 100);

    const hint = page.getByTestId("interval-year").locator(".interval-hint");
    await expect.poll(() => hint.textContent()).toBe(`save ${percent}%`);
    expect(percent).toBe(17);
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

  it("sees why a checkout did not start, once, and a forged ?error= not at all", async () => {
    const forged = "Your card was declined. Re-enter it at http://evil.example/pay";
    await page.goto(`${stack.baseUrl}/?error=${encodeURIComponent(forged)}#pricing`);
    await expect.poll(() => page.getByTestId("tier-card").count()).toBeGreaterThan(0);
    expect(await page.getByTestId("checkout-error").isVisible()).toBe(false);
    expect(await page.textContent("body")).not.toContain("evil.example");

    // A real refusal: a form post with a price that is no plan of ours.
    await postFormFromPage(page, "/api/billing/checkout", { price: "price_not_ours" });
    await page.waitForURL(`${stack.baseUrl}/#pricing`);
    const error = page.getByTestId("checkout-error");
    await expect
      .poll(() => error.textContent())
      .toBe("That price is not one of our plans.");

    await page.reload();
    await expect.poll(() => page.getByTestId("tier-card").count()).toBeGreaterThan(0);
    expect(await error.isVisible()).toBe(false);
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
    expect(await page.getByTestId("checkout-success").isVisible()).toBe(true);
  });

  it("reads the whole Core post", async () => {
    await page.goto(`${stack.baseUrl}${core.path}`);
    await expect.poll(() => page.getByTestId("post-body").isVisible()).toBe(true);
    expect(await page.getByTestId("paywall").count()).toBe(0);
    await page.screenshot({ path: join(screenshots, "unlocked.png"), fullPage: true });
  });
});
