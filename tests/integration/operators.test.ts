import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type StripeEmulator,
  startStripeEmulator,
} from "../../emulators/stripe/index.ts";
import { emulatorStripeClient, repoRoot } from "../../scripts/stack.ts";
import { HANDLED_EVENT_TYPES } from "../../server/billing/events.ts";
import { runStripeSetup } from "../../server/billing/setup.ts";
import tierwall from "../../tierwall.config.ts";
import { accountsFor, newAddress } from "../helpers/accounts.ts";
import { billingFor } from "../helpers/billing.ts";
import { payOnCheckoutPage } from "../helpers/checkout.ts";
import { gatedPage } from "../helpers/site.ts";
import { type Reader, type Stack, startStack } from "../helpers/stack.ts";

/**
 * The operator's commands (`stripe:setup`, `stripe:sync`, `access`) run as child
 * processes against a whole stack: the built server over HTTP, its SQLite file
 * and the Stripe emulator, read back through the official SDK.
 */

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

interface MeUser {
  tier: string;
  complimentary: { tier: string; tierName: string; until: string | null } | null;
  subscription: { status: string; tier: string } | null;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function runCli(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `scripts/${script}`, ...args],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          DATABASE_PATH: stack.databasePath,
          STRIPE_API_BASE: stack.stripeUrl,
          STRIPE_SECRET_KEY: "sk_test_tierwall_offline",
          SITE_URL: stack.baseUrl,
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function me(reader: Reader): Promise<MeUser> {
  const response = await fetch(`${stack.baseUrl}/api/me`, {
    headers: { cookie: reader.cookie },
  });
  const body = (await response.json()) as { user: MeUser | null };
  if (!body.user) throw new Error(`${reader.email} is not signed in`);
  return body.user;
}

async function pageAs(reader: Reader, path: string): Promise<string> {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    headers: { cookie: reader.cookie },
  });
  return response.text();
}

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = stack.openDb();
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

function run(sql: string, ...params: unknown[]): void {
  const db = stack.openDb();
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** How many of each object the setup manages the Stripe account holds. */
async function countObjects(stripe: Stripe) {
  const all = { limit: 100 } as const;
  return {
    products: (await stripe.products.list(all).autoPagingToArray({ limit: 1000 })).length,
    prices: (await stripe.prices.list(all).autoPagingToArray({ limit: 1000 })).length,
    portalConfigurations: (
      await stripe.billingPortal.configurations
        .list(all)
        .autoPagingToArray({ limit: 1000 })
    ).length,
    webhookEndpoints: (
      await stripe.webhookEndpoints.list(all).autoPagingToArray({
        limit: 1000,
      })
    ).length,
  };
}

/** The setup's report lines, as "outcome object name". */
function outcomes(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => /^(created|updated|unchanged) /.test(line))
    .map((line) => line.replace(/\s+\(.*$/, "").replace(/\s+/g, " "));
}

async function priceByKey(key: string): Promise<Stripe.Price> {
  const [price] = (await stack.stripe.prices.list({ lookup_keys: [key] })).data;
  if (!price) throw new Error(`No price holds the lookup key ${key}`);
  return price;
}

async function subscribe(reader: Reader, tier: string): Promise<void> {
  const price = await priceByKey(`${tier}_monthly`);
  const checkout = await stack.post(
    "/api/billing/checkout",
    { price: price.id },
    reader.cookie,
  );
  expect(checkout.status).toBe(303);
  const paid = await payOnCheckoutPage(checkout.headers.get("location") ?? "");
  expect(paid.status).toBe(303);
  await stack.flushWebhooks();
}

describe("npm run stripe:setup", () => {
  const webhookUrl = () => `${stack.baseUrl}/api/stripe/webhook`;

  it("matches the seeded catalog, creates the portal configuration, and keeps the server's endpoint", async () => {
    const before = await countObjects(stack.stripe);

    const first = await runCli("stripe-setup.ts", []);
    expect(first.code, first.stderr).toBe(0);
    expect(outcomes(first.stdout)).toEqual([
      "unchanged product spark",
      "unchanged price spark_monthly",
      "unchanged price spark_yearly",
      "unchanged product core",
      "unchanged price core_monthly",
      "unchanged price core_yearly",
      "unchanged product lightning",
      "unchanged price lightning_monthly",
      "unchanged price lightning_yearly",
      "created portal configuration tierwall",
      `unchanged webhook endpoint ${webhookUrl()}`,
    ]);
    expect(await countObjects(stack.stripe)).toEqual({
      ...before,
      portalConfigurations: before.portalConfigurations + 1,
    });

    const [endpoint] = (await stack.stripe.webhookEndpoints.list()).data.filter(
      (candidate) => candidate.url === webhookUrl(),
    );
    expect([...(endpoint?.enabled_events ?? [])].sort()).toEqual(
      [...HANDLED_EVENT_TYPES].sort(),
    );
  });

  it("changes nothing on a second run", async () => {
    const before = await countObjects(stack.stripe);

    const second = await runCli("stripe-setup.ts", []);
    expect(second.code, second.stderr).toBe(0);
    const lines = outcomes(second.stdout);
    expect(lines).toHaveLength(11);
    expect(lines.every((line) => line.startsWith("unchanged "))).toBe(true);
    expect(second.stdout).not.toContain("STRIPE_WEBHOOK_SECRET=whsec_");
    expect(await countObjects(stack.stripe)).toEqual(before);
  });

  it("offers the tiers' prices in the portal configuration", async () => {
    const configurations = await stack.stripe.billingPortal.configurations.list();
    const ours = configurations.data.find((c) => c.metadata?.tierwall === "portal");
    const products = ours?.features.subscription_update.products ?? [];

    expect(products).toHaveLength(3);
    const core = await priceByKey("core_monthly");
    const coreEntry = products.find((entry) => entry.product === core.product);
    expect(coreEntry?.prices).toContain(core.id);
    expect(ours?.features.subscription_cancel).toMatchObject({
      enabled: true,
      mode: "at_period_end",
    });
  });

  it("replaces a price whose amount changed, moving its lookup key", async () => {
    const original = await priceByKey("core_monthly");
    const raised = structuredClone(tierwall);
    const coreTier = raised.tiers.find((tier) => tier.id === "core");
    if (!coreTier?.prices) throw new Error("The config has no core prices");
    coreTier.prices.monthly = 1300;

    const result = await runStripeSetup(stack.stripe, raised, {
      webhookUrl: webhookUrl(),
    });
    const change = result.actions.find((action) => action.name === "core_monthly");
    expect(change?.outcome).toBe("created");
    expect(change?.detail).toContain(`replacing ${original.id}`);
    expect(result.actions.find((a) => a.object === "portal configuration")?.outcome).toBe(
      "updated",
    );

    const replacement = await priceByKey("core_monthly");
    expect(replacement.id).not.toBe(original.id);
    expect(replacement).toMatchObject({ unit_amount: 1300, active: true });
    expect(replacement.product).toBe(original.product);
    const archived = await stack.stripe.prices.retrieve(original.id);
    expect(archived).toMatchObject({ active: false, lookup_key: null });

    // The config still says 1200: the command puts that back the same way.
    const back = await runCli("stripe-setup.ts", []);
    expect(back.code, back.stderr).toBe(0);
    expect(outcomes(back.stdout)).toContain("created price core_monthly");
    expect(back.stdout).toContain(`replacing ${replacement.id}`);
    expect(await priceByKey("core_monthly")).toMatchObject({ unit_amount: 1200 });
    expect((await stack.stripe.prices.retrieve(replacement.id)).active).toBe(false);
  });

  it("prints a new endpoint's secret once, then how to rotate it", async () => {
    const url = `${stack.baseUrl}/api/stripe/webhook?second-endpoint`;

    const created = await runCli("stripe-setup.ts", ["--url", url]);
    expect(created.code, created.stderr).toBe(0);
    expect(outcomes(created.stdout)).toContain(`created webhook endpoint ${url}`);
    const secret = /^STRIPE_WEBHOOK_SECRET=(whsec_\S+)$/m.exec(created.stdout)?.[1];
    expect(secret).toBeDefined();

    const again = await runCli("stripe-setup.ts", ["--url", url]);
    expect(outcomes(again.stdout)).toContain(`unchanged webhook endpoint ${url}`);
    expect(again.stdout).not.toContain("whsec_");
    expect(again.stdout).toContain("STRIPE_WEBHOOK_SECRET=<new>,<old>");

    const endpoints = await stack.stripe.webhookEndpoints.list({ limit: 100 });
    const made = endpoints.data.filter((endpoint) => endpoint.url === url);
    expect(made).toHaveLength(1);
    await stack.stripe.webhookEndpoints.del(made[0]?.id ?? "");
  });

  it("warns about a price on a tier's product that the config does not list", async () => {
    const core = await priceByKey("core_monthly");
    const stray = await stack.stripe.prices.create({
      product: typeof core.product === "string" ? core.product : core.product.id,
      currency: "usd",
      unit_amount: 1,
      recurring: { interval: "month" },
    });

    const run = await runCli("stripe-setup.ts", []);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^warning +price core \\(no lookup key\\) \\(${stray.id}\\): .*not in tierwall\\.config\\.ts`,
        "m",
      ),
    );
    expect((await stack.stripe.prices.retrieve(stray.id)).active).toBe(true);
    await stack.stripe.prices.update(stray.id, { active: false });
  });

  it("lets a subscriber open the Billing Portal afterwards", async () => {
    const reader = await stack.signUp();
    await subscribe(reader, "spark");

    const response = await stack.post("/api/billing/portal", {}, reader.cookie);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")?.startsWith(stack.stripeUrl)).toBe(true);
  });
});

describe("npm run stripe:setup on an empty Stripe account", () => {
  let empty: StripeEmulator;
  let stripe: Stripe;
  let firstOutput = "";
  const webhookUrl = () => `${stack.baseUrl}/api/stripe/webhook`;
  const setup = () => runCli("stripe-setup.ts", [], { STRIPE_API_BASE: empty.url });

  beforeAll(async () => {
    empty = await startStripeEmulator({ catalog: "empty", retryDelaysMs: [100] });
    stripe = emulatorStripeClient(empty.url);
  });

  afterAll(async () => {
    await empty?.close();
  });

  /** Everything the setup manages in the account, to compare before and after a run. */
  async function accountSnapshot(): Promise<unknown> {
    const all = { limit: 100 } as const;
    return {
      products: await stripe.products.list(all).autoPagingToArray({ limit: 1000 }),
      prices: await stripe.prices.list(all).autoPagingToArray({ limit: 1000 }),
      portal: await stripe.billingPortal.configurations
        .list(all)
        .autoPagingToArray({ limit: 1000 }),
      endpoints: await stripe.webhookEndpoints
        .list(all)
        .autoPagingToArray({ limit: 1000 }),
    };
  }

  async function theEndpoint(): Promise<Stripe.WebhookEndpoint> {
    const endpoints = (await stripe.webhookEndpoints.list({ limit: 100 })).data;
    expect(endpoints.map((endpoint) => endpoint.url)).toEqual([webhookUrl()]);
    return endpoints[0] as Stripe.WebhookEndpoint;
  }

  function expectListensToHandledEvents(endpoint: Stripe.WebhookEndpoint): void {
    expect(endpoint.status).toBe("enabled");
    expect([...endpoint.enabled_events].sort()).toEqual([...HANDLED_EVENT_TYPES].sort());
  }

  it("creates the products, the prices with their lookup keys, the portal and the endpoint", async () => {
    expect((await stripe.products.list()).data).toEqual([]);

    const first = await setup();
    expect(first.code, first.stderr).toBe(0);
    firstOutput = first.stdout;
    const paid = tierwall.tiers.slice(1);
    expect(outcomes(first.stdout)).toEqual([
      ...paid.flatMap((tier) => [
        `created product ${tier.id}`,
        `created price ${tier.id}_monthly`,
        `created price ${tier.id}_yearly`,
      ]),
      "created portal configuration tierwall",
      `created webhook endpoint ${webhookUrl()}`,
    ]);

    const products = (await stripe.products.list({ limit: 100 })).data;
    expect(products.map((p) => [p.metadata.tier, p.name]).sort()).toEqual(
      paid.map((tier) => [tier.id, tier.name]).sort(),
    );
    for (const tier of paid) {
      const product = products.find((p) => p.metadata.tier === tier.id);
      for (const [period, interval] of [
        ["monthly", "month"],
        ["yearly", "year"],
      ] as const) {
        const [price] = (
          await stripe.prices.list({ lookup_keys: [`${tier.id}_${period}`] })
        ).data;
        expect(price).toMatchObject({
          product: product?.id,
          active: true,
          currency: tier.prices?.currency,
          unit_amount: tier.prices?.[period],
          recurring: { interval, interval_count: 1 },
        });
      }
    }

    const configurations = (await stripe.billingPortal.configurations.list()).data;
    const ours = configurations.find((c) => c.metadata?.tierwall === "portal");
    expect(
      ours?.features.subscription_update.products?.map((p) => p.product).sort(),
    ).toEqual(products.map((p) => p.id).sort());
    expectListensToHandledEvents(await theEndpoint());
  });

  it("printed the new endpoint's signing secret once, the one Stripe holds", async () => {
    const response = await fetch(`${empty.url}/_emulator/webhook_endpoints`);
    const [endpoint] = (await response.json()) as { secret: string }[];
    const printed = [...firstOutput.matchAll(/^STRIPE_WEBHOOK_SECRET=(whsec_\S+)$/gm)];

    expect(printed.map((match) => match[1])).toEqual([endpoint?.secret]);
    expect(firstOutput.split(endpoint?.secret ?? "?").length - 1).toBe(1);
  });

  it("changes nothing on a second run, and shows no secret", async () => {
    const before = await accountSnapshot();

    const second = await setup();
    expect(second.code, second.stderr).toBe(0);
    const lines = outcomes(second.stdout);
    expect(lines).toHaveLength(11);
    expect(lines.filter((line) => !line.startsWith("unchanged "))).toEqual([]);
    expect(second.stdout).not.toContain("whsec_");
    expect(await accountSnapshot()).toEqual(before);
  });

  it("repairs an endpoint that listens to the wrong events", async () => {
    const { id } = await theEndpoint();
    await stripe.webhookEndpoints.update(id, { enabled_events: ["customer.created"] });

    const run = await setup();
    expect(run.code, run.stderr).toBe(0);
    expect(outcomes(run.stdout)).toContain(`updated webhook endpoint ${webhookUrl()}`);
    expect(run.stdout).not.toContain("whsec_");
    const repaired = await theEndpoint();
    expect(repaired.id).toBe(id);
    expectListensToHandledEvents(repaired);
  });

  it("turns a disabled endpoint back on", async () => {
    const { id } = await theEndpoint();
    await stripe.webhookEndpoints.update(id, { disabled: true });
    expect((await theEndpoint()).status).toBe("disabled");

    const run = await setup();
    expect(run.code, run.stderr).toBe(0);
    expect(outcomes(run.stdout)).toContain(`updated webhook endpoint ${webhookUrl()}`);
    const repaired = await theEndpoint();
    expect(repaired.id).toBe(id);
    expectListensToHandledEvents(repaired);
  });

  it("changes nothing on the run after the repairs", async () => {
    const before = await accountSnapshot();

    const run = await setup();
    expect(run.code, run.stderr).toBe(0);
    const lines = outcomes(run.stdout);
    expect(lines).toHaveLength(11);
    expect(lines.filter((line) => !line.startsWith("unchanged "))).toEqual([]);
    expect(run.stdout).not.toContain("whsec_");
    expect(await accountSnapshot()).toEqual(before);
  });
});

describe("npm run stripe:sync", () => {
  let reader: Reader;
  let subscriptionId: string;

  beforeAll(async () => {
    reader = await stack.signUp();
    await subscribe(reader, "core");
    const [row] = query<{ id: string }>(
      "SELECT s.id FROM subscription s JOIN user u ON u.id = s.user_id WHERE u.email = ?",
      reader.email,
    );
    subscriptionId = row?.id ?? "";
  });

  it("restores a reader's subscription after its stored rows were lost", async () => {
    expect((await me(reader)).tier).toBe("core");
    run("DELETE FROM subscription WHERE id = ?", subscriptionId);
    expect((await me(reader)).tier).toBe("free");

    const sync = await runCli("stripe-sync.ts", []);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/customers checked: \d+/);
    expect(sync.stdout).toContain("readers whose tier changed: 1");
    const masked = `${reader.email[0]}***@example.com`;
    expect(sync.stdout).toContain(`${masked}: Free → Core Stacker`);
    expect(sync.stdout).not.toContain(reader.email);
    expect(sync.stdout).toContain("failures: 0");

    expect((await me(reader)).tier).toBe("core");
  });

  it("applies a cancellation Stripe made while the webhook endpoint was disabled", async () => {
    const endpoints = await stack.stripe.webhookEndpoints.list({ limit: 100 });
    const endpoint = endpoints.data.find(
      (candidate) => candidate.url === `${stack.baseUrl}/api/stripe/webhook`,
    );
    if (!endpoint) throw new Error("The server's webhook endpoint is not registered");

    await stack.stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    try {
      await stack.stripe.subscriptions.cancel(subscriptionId);
      await stack.flushWebhooks();
      expect((await me(reader)).tier).toBe("core");

      const sync = await runCli("stripe-sync.ts", []);
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain("Core Stacker → Free");
    } finally {
      await stack.stripe.webhookEndpoints.update(endpoint.id, { disabled: false });
    }
    expect(await me(reader)).toMatchObject({
      tier: "free",
      subscription: { status: "canceled" },
    });
  });

  it("exits 1 and changes nothing when Stripe cannot be reached", async () => {
    const rowsBefore = query("SELECT * FROM subscription ORDER BY id");

    const sync = await runCli("stripe-sync.ts", [], {
      STRIPE_API_BASE: "http://127.0.0.1:9",
    });
    expect(sync.code).toBe(1);
    expect(sync.stdout).toContain("readers whose tier changed: 0");
    expect(sync.stdout).not.toContain("failures: 0");
    expect(sync.stderr).toContain("the subscription list:");

    expect(query("SELECT * FROM subscription ORDER BY id")).toEqual(rowsBefore);
  });

  it("gives Stripe a new address that was confirmed while Stripe was down", async () => {
    const accounts = accountsFor(stack);
    const emulator = billingFor(stack).emulator;
    const mover = await stack.signUp();
    await subscribe(mover, "spark");
    const [linked] = query<{ stripe_customer_id: string }>(
      "SELECT stripe_customer_id FROM user WHERE email = ?",
      mover.email,
    );
    const customerId = linked?.stripe_customer_id ?? "";
    const newEmail = newAddress("moved-in-outage");

    const asked = await stack.post(
      "/api/account/email",
      { email: newEmail, currentPassword: mover.password },
      mover.cookie,
    );
    expect(asked.status).toBe(303);
    const link = await accounts.emailedLink(newEmail, "verify-email");
    await emulator.outage(true);
    try {
      expect((await accounts.followLink(link)).status).toBe(303);
    } finally {
      await emulator.outage(false);
    }
    const stale = await stack.stripe.customers.retrieve(customerId);
    expect(stale).toMatchObject({ email: mover.email });

    const sync = await runCli("stripe-sync.ts", []);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toContain("customer emails corrected: 1");
    expect(sync.stdout).not.toContain(newEmail);
    const fixed = await stack.stripe.customers.retrieve(customerId);
    expect(fixed).toMatchObject({ email: newEmail });

    const again = await runCli("stripe-sync.ts", []);
    expect(again.stdout).toContain("customer emails corrected: 0");
  });

  it("refuses a DATABASE_PATH with no database there, creating nothing", async () => {
    const missing = join(tmpdir(), `tierwall-missing-${Date.now()}`, "tierwall.db");
    const sync = await runCli("stripe-sync.ts", [], { DATABASE_PATH: missing });
    expect(sync.code).toBe(1);
    expect(sync.stderr).toContain(`There is no database at ${missing}`);
    expect(sync.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(existsSync(missing)).toBe(false);
  });
});

describe("npm run access", () => {
  let reader: Reader;
  let core: ReturnType<typeof gatedPage>;

  beforeAll(async () => {
    reader = await stack.signUp();
    core = gatedPage(stack.distDir, "core");
  });

  it("grants a tier without Stripe: the gated page opens and /api/me says so", async () => {
    expect(await pageAs(reader, core.path)).toBe(core.teaser);

    const granted = await runCli("access.ts", [
      "grant",
      reader.email,
      "core",
      "--until",
      "2099-01-31",
      "--note",
      "reviewer",
    ]);
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toContain("complimentary Core Stacker until 31 January 2099");

    expect(await pageAs(reader, core.path)).toBe(core.full);
    expect(await me(reader)).toMatchObject({
      tier: "core",
      subscription: null,
      complimentary: {
        tier: "core",
        tierName: "Core Stacker",
        until: "2099-01-31T23:59:59.000Z",
      },
    });

    const listed = await runCli("access.ts", ["list"]);
    expect(listed.stdout).toContain(
      `${reader.email}: Core Stacker until 31 January 2099`,
    );
    expect(listed.stdout).toContain("reviewer");
  });

  it("refuses to sell a reader a plan their grant already covers, not a higher one", async () => {
    const priceOf = async (tier: string) => {
      const body = (await (await fetch(`${stack.baseUrl}/api/pricing`)).json()) as {
        tiers: { id: string; prices: { id: string }[] }[];
      };
      return body.tiers.find((t) => t.id === tier)?.prices[0]?.id ?? "";
    };
    const checkout = (price: string) =>
      fetch(`${stack.baseUrl}/api/billing/checkout`, {
        method: "POST",
        headers: {
          origin: stack.baseUrl,
          accept: "application/json",
          "content-type": "application/json",
          cookie: reader.cookie,
        },
        body: JSON.stringify({ price }),
      });

    const spark = await checkout(await priceOf("spark"));
    expect(spark.status).toBe(409);
    expect(((await spark.json()) as { message: string }).message).toContain(
      "You already have Core Stacker as a gift until 2099-01-31",
    );
    expect((await checkout(await priceOf("lightning"))).status).toBe(200);
  });

  it("revokes it: back to the teaser", async () => {
    const revoked = await runCli("access.ts", ["revoke", reader.email]);
    expect(revoked.code, revoked.stderr).toBe(0);

    expect(await pageAs(reader, core.path)).toBe(core.teaser);
    expect(await me(reader)).toMatchObject({ tier: "free", complimentary: null });
  });

  it("gives nothing once a grant has expired", async () => {
    const [user] = query<{ id: string }>(
      "SELECT id FROM user WHERE email = ?",
      reader.email,
    );
    const yesterday = Math.floor(Date.now() / 1000) - 86_400;
    run(
      `INSERT INTO complimentary_access (user_id, tier, until, note, granted_at)
       VALUES (?, 'lightning', ?, NULL, ?)`,
      user?.id,
      yesterday,
      yesterday - 86_400,
    );

    expect(await pageAs(reader, core.path)).toBe(core.teaser);
    expect(await me(reader)).toMatchObject({ tier: "free", complimentary: null });
    const listed = await runCli("access.ts", ["list"]);
    expect(listed.stdout).toMatch(/Lightning Stacker until .* \[expired\]/);
  });

  it("refuses bad input with exit code 1 and says what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["grant", "nobody@example.com", "core"],
        /No reader has the email nobody@example\.com/,
      ],
      [["grant", reader.email, "free"], /"free" is not a paid tier\. Paid tiers: spark/],
      [["grant", reader.email, "platinum"], /"platinum" is not a paid tier/],
      [["grant", reader.email, "core", "--until", "2020-01-01"], /already over/],
      [["grant", reader.email, "core", "--until", "31/01/2099"], /YYYY-MM-DD/],
      [["grant", reader.email, "core", "--until", "2099-02-30"], /not a day/],
      [["grant", reader.email, "core", "--until", ""], /YYYY-MM-DD/],
      [["grant", reader.email, "core", "--untill", "2099-01-31"], /unknown option/],
      [["grant", reader.email, "core", "spare"], /expected 2 arguments/],
      [["revoke", "nobody@example.com"], /No reader has the email/],
    ];

    for (const [args, message] of cases) {
      const result = await runCli("access.ts", args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect(await me(reader)).toMatchObject({ tier: "free", complimentary: null });
  });
});
