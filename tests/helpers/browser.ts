import { type Browser, chromium } from "playwright-core";

/**
 * Debian's Chromium, headless, with the flags that keep it from reaching for
 * the network on its own (this machine's network is closed, and every refused
 * connection would slow the tests).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
