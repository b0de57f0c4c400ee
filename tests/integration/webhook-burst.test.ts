import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  BURST_MIX,
  type BurstTarget,
  seedBurst,
  verifyExactlyOnce,
} from "../../bench/webhook-burst-scenario.ts";
import type { BurstReport } from "../../emulators/stripe/burst.ts";
import { billingFor } from "../helpers/billing.ts";
import { type Stack, type StackOptions, startStack } from "../helpers/stack.ts";

/*
 * Bursts of signed Stripe events at the built server, many in flight at once,
 * some delivered twice side by side: every event must be recorded and applied
 * exactly once, and the stored subscriptions must end equal to Stripe's. The
 * scenario (bench/webhook-burst-scenario.ts) is the one `npm run
 * bench:webhooks` measures.
 */

/** A stack of its own for the tests in the calling `describe`. */
function useBurstStack(options: StackOptions = {}): {
  stack: Stack;
  target: BurstTarget;
} {
  const scene = {} as { stack: Stack; target: BurstTarget };
  beforeAll(async () => {
    const stack = await startStack(options);
    scene.stack = stack;
    scene.target = {
      stripe: stack.stripe,
      stripeUrl: stack.stripeUrl,
      webhookUrl: `${stack.baseUrl}/api/stripe/webhook`,
      databasePath: stack.databasePath,
      serverOutput: () => stack.server.output(),
    };
  });
  afterAll(async () => {
    await scene.stack?.stop();
  });
  return scene;
}

interface Size {
  customers: number;
  events: number;
  duplicates: number;
}

async function seed(target: BurstTarget, size: Size) {
  const seeded = await seedBurst(target, { ...size, concurrency: 32 });
  expect(seeded.warmUp).toMatchObject({ failed: 0, non_2xx: 0 });
  return seeded;
}

function fire(stack: Stack, size: Size): Promise<BurstReport> {
  return billingFor(stack).emulator.burst({
    count: size.events,
    mix: BURST_MIX,
    duplicates: size.duplicates,
    concurrency: 32,
  });
}

function expectAllDelivered(report: BurstReport, size: Size): void {
  expect(report).toMatchObject({
    events: size.events,
    deliveries: size.events + size.duplicates,
    undelivered: 0,
    succeeded: size.events + size.duplicates,
    failed: 0,
  });
}

describe("a webhook burst at one server process", () => {
  const scene = useBurstStack();
  const size = { customers: 100, events: 1_000, duplicates: 100 };

  test("1,000 events, 100 of them twice at once, are each applied exactly once and end in Stripe's state", async () => {
    const seeded = await seed(scene.target, size);

    const report = await fire(scene.stack, size);

    expectAllDelivered(report, size);
    expect(report).toMatchObject({ non_2xx: 0, connection_errors: 0, retries: 0 });
    const verdict = await verifyExactlyOnce(scene.target, report, seeded);
    expect(verdict.problems).toEqual([]);
    expect(verdict.checked).toMatchObject({
      handledEvents: 800,
      ignoredEvents: 200,
      recorded: 800,
      appliedLogLines: 800,
      subscriptions: size.customers,
    });
    expect(verdict.checked.duplicateLogLines).toBeGreaterThan(0);
  }, 120_000);
});

describe("a webhook burst during a Stripe outage", () => {
  const scene = useBurstStack();
  const size = { customers: 40, events: 300, duplicates: 30 };

  test("events that failed while Stripe was down are applied once by their retries", async () => {
    const seeded = await seed(scene.target, size);
    const { emulator } = billingFor(scene.stack);

    await emulator.outage(true);
    const running = fire(scene.stack, size);
    await new Promise((done) => setTimeout(done, 300));
    await emulator.outage(false);
    const report = await running;

    expectAllDelivered(report, size);
    expect(report.non_2xx).toBeGreaterThan(0);
    expect(report.retries).toBe(report.non_2xx + report.connection_errors);
    const verdict = await verifyExactlyOnce(scene.target, report, seeded);
    expect(verdict.problems).toEqual([]);
    expect(verdict.checked.appliedLogLines).toBe(verdict.checked.handledEvents);
  }, 120_000);
});

describe("a webhook burst spread over two server processes", () => {
  const scene = useBurstStack({ workers: 2 });
  const size = { customers: 60, events: 500, duplicates: 50 };

  test("events and their duplicates, answered by either process, are each applied exactly once", async () => {
    const seeded = await seed(scene.target, size);

    const report = await fire(scene.stack, size);

    expectAllDelivered(report, size);
    expect(report).toMatchObject({ non_2xx: 0, connection_errors: 0 });
    const verdict = await verifyExactlyOnce(scene.target, report, seeded);
    expect(verdict.problems).toEqual([]);
    expect(verdict.checked.appliedLogLines).toBe(verdict.checked.handledEvents);
  }, 120_000);
});
