import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatedPage } from "../helpers/site.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

/**
 * Viewing the site as another tier: a writer's tool that the server offers only
 * when started with TIERWALL_DEV=1 (as `npm run dev` does). Any other server,
 * whatever its NODE_ENV, ignores the query and the cookie and adds nothing to
 * its pages.
 */

const ATTACHMENT = "/posts/field-report-q3/sqlite-backup.sh";
const switchPattern = /<!-- tierwall dev: view as -->[\s\S]*?<!-- \/tierwall dev -->\n/;

function withoutSwitch(html: string): string {
  return html.replace(switchPattern, "");
}

function get(stack: Stack, path: string, cookie?: string): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
}

/** A signed-in reader whose stored subscription gives them `tier`. */
async function readerWithTier(stack: Stack, tier: string): Promise<string> {
  const reader = await stack.signUp();
  stack.storeSubscription(reader.email, tier);
  return reader.cookie;
}

function viewAsCookie(response: Response): string | undefined {
  return response.headers
    .getSetCookie()
    .find((header) => header.startsWith("tierwall_view_as="));
}

describe("with TIERWALL_DEV=1", () => {
  let stack: Stack;
  let lightning: ReturnType<typeof gatedPage>;

  beforeAll(async () => {
    // On every interface, as a dev server started with HOST=0.0.0.0 would be.
    stack = await startStack({ env: { TIERWALL_DEV: "1", HOST: "0.0.0.0" } });
    lightning = gatedPage(stack.distDir, "lightning");
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("?as=lightning shows an anonymous reader the full Lightning post", async () => {
    const response = await get(stack, `${lightning.path}?as=lightning`);

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const html = await response.text();
    expect(withoutSwitch(html)).toBe(lightning.full);
    expect(html).toMatch(/<option value="lightning" selected>/);
    expect(viewAsCookie(response)).toMatch(/^tierwall_view_as=lightning;.*HttpOnly/i);
  });

  it("remembers the choice in a cookie until ?as= is cleared", async () => {
    const remembered = await get(stack, lightning.path, "tierwall_view_as=lightning");
    expect(withoutSwitch(await remembered.text())).toBe(lightning.full);

    const cleared = await get(
      stack,
      `${lightning.path}?as=`,
      "tierwall_view_as=lightning",
    );
    expect(withoutSwitch(await cleared.text())).toBe(lightning.teaser);
    expect(viewAsCookie(cleared)).toMatch(/^tierwall_view_as=;/);
  });

  it("puts the switch on gated pages only, teasers included", async () => {
    const teaser = await (await get(stack, lightning.path)).text();
    expect(teaser).toMatch(switchPattern);
    expect(teaser).toContain("yourself (Free)");
    expect(teaser.indexOf("<!-- /tierwall dev -->")).toBeLessThan(
      teaser.lastIndexOf("</body>"),
    );

    const home = await (await get(stack, "/?as=lightning")).text();
    expect(home).not.toContain("tierwall dev");
  });

  it("serves gated attachments as the chosen tier, untouched", async () => {
    const response = await get(stack, `${ATTACHMENT}?as=lightning`);
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain("tierwall dev");
  });

  it("shows a paying reader what a lower tier sees", async () => {
    const subscriber = await readerWithTier(stack, "lightning");
    const own = await get(stack, lightning.path, subscriber);
    expect(withoutSwitch(await own.text())).toBe(lightning.full);

    const asFree = await get(stack, `${lightning.path}?as=free`, subscriber);
    const html = await asFree.text();
    expect(withoutSwitch(html)).toBe(lightning.teaser);
    expect(html).toContain("yourself (Lightning Stacker)");
  });

  // This machine's own address on its network: a request to it does not come
  // from a loopback peer, as a browser on another machine would not.
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && !address.internal && address.family === "IPv4");

  it.skipIf(!outside)(
    "gives a browser on another machine the teaser, ?as= or not",
    async () => {
      const { port } = new URL(stack.baseUrl);
      const url = `http://${outside?.address}:${port}${lightning.path}?as=lightning`;
      const response = await fetch(url, {
        headers: { cookie: "tierwall_view_as=lightning" },
      });

      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toBe(lightning.teaser);
      expect(html).not.toMatch(switchPattern);
      expect(viewAsCookie(response)).toBeUndefined();
    },
  );

  it("ignores a tier that does not exist", async () => {
    const html = await (await get(stack, `${lightning.path}?as=platinum`)).text();
    expect(withoutSwitch(html)).toBe(lightning.teaser);
  });

  it("leaves the API to the reader's real tier", async () => {
    const reader = await stack.signUp();
    const cookie = `${reader.cookie}; tierwall_view_as=lightning`;
    const me = await get(stack, "/api/me?as=lightning", cookie);
    expect(await me.json()).toMatchObject({ user: { tier: "free" } });
  });
});

const withoutDevFlag: { name: string; env: Record<string, string> }[] = [
  { name: "in production", env: {} },
  { name: "with NODE_ENV=development alone", env: { NODE_ENV: "development" } },
];

describe.each(withoutDevFlag)("without TIERWALL_DEV ($name)", ({ env }) => {
  let stack: Stack;
  let lightning: ReturnType<typeof gatedPage>;

  beforeAll(async () => {
    // Set empty on purpose: a TIERWALL_DEV exported in the test's shell must not leak in.
    stack = await startStack({ env: { TIERWALL_DEV: "", ...env } });
    lightning = gatedPage(stack.distDir, "lightning");
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("ignores ?as= and serves the teaser, with no switch and no cookie", async () => {
    const response = await get(stack, `${lightning.path}?as=lightning`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(lightning.teaser);
    expect(viewAsCookie(response)).toBeUndefined();
  });

  it("ignores the view-as cookie", async () => {
    const page = await get(stack, lightning.path, "tierwall_view_as=lightning");
    expect(await page.text()).toBe(lightning.teaser);

    const attachment = await get(stack, `${ATTACHMENT}?as=lightning`);
    expect(attachment.status).toBe(403);
  });
});
