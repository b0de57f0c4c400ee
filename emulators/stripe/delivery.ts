import { createHmac } from "node:crypto";
import { newId } from "./ids.ts";
import type { Store } from "./store.ts";
import type {
  Delivery,
  DeliveryAttempt,
  StoredEvent,
  StoredWebhookEndpoint,
} from "./types.ts";

const ATTEMPT_TIMEOUT_MS = 10_000;

/** The `Stripe-Signature` header value for a payload, as `constructEvent` verifies it. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret)
    .update(`${timestamp}.${payload}`)
    .digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

/** "ECONNREFUSED" says more than fetch's own "fetch failed". */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

function endpointWants(endpoint: StoredWebhookEndpoint, type: string): boolean {
  if (endpoint.status !== "enabled") return false;
  return endpoint.enabled_events.includes("*") || endpoint.enabled_events.includes(type);
}

/**
 * Sends events to webhook endpoints, off the request that caused them.
 *
 * Each endpoint has a queue: first attempts go out one at a time in the order
 * the events were created. A failed attempt (non-2xx or no connection) is
 * retried after the next delay in `retryDelaysMs`, outside the queue, so one
 * failing event does not hold back newer ones, which is also how Stripe
 * behaves. After the last retry, or once the endpoint is deleted, the delivery
 * is marked failed.
 */
export class WebhookDeliveries {
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busyEndpoints = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly retryDelaysMs: readonly number[],
    private readonly log: (line: string) => void,
  ) {}

  /** Creates one delivery per interested endpoint and starts sending. */
  enqueue(event: StoredEvent): void {
    const endpoints = this.store.webhookEndpoints
      .all()
      .filter((endpoint) => endpointWants(endpoint, event.type));

    for (const endpoint of endpoints) {
      const delivery: Delivery = {
        id: newId("whdel"),
        eventId: event.id,
        endpointId: endpoint.id,
        url: endpoint.url,
        state: "pending",
        attempts: [],
      };
      this.store.deliveries.insert(delivery);
      this.push(delivery);
    }
    this.updatePendingCount(event.id);
  }

  /** Picks up deliveries left pending when a saved state was loaded. */
  resumePending(): void {
    for (const delivery of this.store.deliveries.all()) {
      if (delivery.state === "pending") this.push(delivery);
    }
  }

  /** Resolves true once no delivery is pending, or false after `timeoutMs`. */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.pendingCount() === 0) return Promise.resolve(true);

    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== onIdle);
        resolve(value);
      };
      const onIdle = (): void => finish(true);
      this.waiters.push(onIdle);
    });
  }

  pendingCount(): number {
    return this.store.deliveries.all().filter((d) => d.state === "pending").length;
  }

  /** Forgets queued work; used by reset. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queues.clear();
    this.notifyIfIdle();
  }

  /** Stops all sending: pending timers are dropped, requests in flight aborted. */
  close(): void {
    this.abort.abort();
    this.clear();
  }

  private push(delivery: Delivery): void {
    const queue = this.queues.get(delivery.endpointId) ?? [];
    queue.push(delivery);
    this.queues.set(delivery.endpointId, queue);
    this.pump(delivery.endpointId);
  }

  private pump(endpointId: string): void {
    if (this.busyEndpoints.has(endpointId)) return;
    const next = this.queues.get(endpointId)?.shift();
    if (!next) return;

    this.busyEndpoints.add(endpointId);
    void this.attempt(next).finally(() => {
      this.busyEndpoints.delete(endpointId);
      this.pump(endpointId);
    });
  }

  private async attempt(delivery: Delivery): Promise<void> {
    if (this.abort.signal.aborted) return;
    const result = await this.send(delivery);
    if (this.abort.signal.aborted || !this.store.deliveries.get(delivery.id)) return;

    delivery.attempts.push(result);
    const succeeded =
      result.status !== null && result.status >= 200 && result.status < 300;
    const retryDelay = this.retryDelaysMs[delivery.attempts.length - 1];
    const endpointGone = !this.store.webhookEndpoints.get(delivery.endpointId);

    if (succeeded) {
      delivery.state = "succeeded";
    } else if (retryDelay === undefined || endpointGone) {
      delivery.state = "failed";
    } else {
      this.scheduleRetry(delivery, retryDelay);
    }

    this.log(
      `[stripe] webhook ${delivery.eventId} → ${delivery.url}: ` +
        `${result.status ?? result.error} (${delivery.state})`,
    );
    this.updatePendingCount(delivery.eventId);
    this.store.markChanged();
    this.notifyIfIdle();
  }

  private scheduleRetry(delivery: Delivery, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery);
    }, delayMs);
    this.timers.add(timer);
  }

  private async send(delivery: Delivery): Promise<DeliveryAttempt> {
    const at = Date.now();
    const endpoint = this.store.webhookEndpoints.get(delivery.endpointId);
    const event = this.store.events.get(delivery.eventId);
    if (!endpoint || !event) return { at, status: null, error: "endpoint deleted" };

    // Signed with the wall clock, not the test clock: receivers compare the
    // timestamp with their own clock and refuse stale signatures.
    const payload = JSON.stringify(event, null, 2);
    const signature = signPayload(payload, endpoint.secret, Math.floor(at / 1000));
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
        body: payload,
        signal: AbortSignal.any([
          this.abort.signal,
          AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        ]),
      });
      const body = (await response.text()).slice(0, 200);
      return response.ok
        ? { at, status: response.status }
        : { at, status: response.status, error: body };
    } catch (error) {
      return { at, status: null, error: describeFetchError(error) };
    }
  }

  private updatePendingCount(eventId: string): void {
    const event = this.store.events.get(eventId);
    if (!event) return;
    event.pending_webhooks = this.store.deliveries
      .all()
      .filter((d) => d.eventId === eventId && d.state !== "succeeded").length;
  }

  private notifyIfIdle(): void {
    if (this.pendingCount() > 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}
