import type { EmulatorContext } from "./context.ts";
import type { StaleRead, StoredSubscription } from "./types.ts";

/*
 * Stale reads. Stripe's API is eventually consistent: for a moment after a
 * change, a read can still answer with the subscription as it was, and an
 * event can arrive before the read that follows it sees the change. A test
 * arms this for one customer (`POST /_emulator/customers/:id/stale_reads`);
 * the next subscription list or retrieve that shows the customer's
 * subscriptions answers with each as it stood some changes earlier, then the
 * reads are fresh again.
 *
 * A subscription's versions are the objects its `customer.subscription.*`
 * events carried, oldest first, then its state now if that differs from the
 * last of them.
 */

const VERSION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
]);

/** Arms (or, with 0 reads, disarms) stale reads of a customer's subscriptions. */
export function armStaleReads(
  ctx: EmulatorContext,
  customerId: string,
  reads: number,
  versionsBack: number,
): StaleRead {
  const armed = { id: customerId, reads, versionsBack };
  if (reads === 0) ctx.store.staleReads.delete(customerId);
  else ctx.store.staleReads.insert(armed);
  return armed;
}

function versionsOf(ctx: EmulatorContext, sub: StoredSubscription): StoredSubscription[] {
  const versions = ctx.store.events
    .all()
    .filter((event) => VERSION_EVENTS.has(event.type))
    .map((event) => event.data.object as StoredSubscription)
    .filter((object) => object.id === sub.id);
  const last = versions.at(-1);
  if (!last || JSON.stringify(last) !== JSON.stringify(sub)) versions.push(sub);
  return versions;
}

function earlierVersion(
  ctx: EmulatorContext,
  sub: StoredSubscription,
  versionsBack: number,
): StoredSubscription {
  const versions = versionsOf(ctx, sub);
  const index = Math.max(0, versions.length - 1 - versionsBack);
  return structuredClone(versions[index] ?? sub);
}

/**
 * The subscriptions a read answers with: stale versions for a customer with
 * stale reads armed, which this read uses up one of.
 */
export function readSubscriptions(
  ctx: EmulatorContext,
  subs: readonly StoredSubscription[],
): StoredSubscription[] {
  const used = new Set<StaleRead>();
  const answered = subs.map((sub) => {
    const armed = ctx.store.staleReads.get(String(sub.customer));
    if (!armed) return sub;
    used.add(armed);
    return earlierVersion(ctx, sub, armed.versionsBack);
  });

  for (const armed of used) {
    armStaleReads(ctx, armed.id, armed.reads - 1, armed.versionsBack);
  }
  return answered;
}
