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

function succeeded(attempt: DeliveryAttempt): boolean {
  return attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
}

function isFinished(delivery: Delivery): boolean {
  return delivery.state === "succeeded" || delivery.state === "failed";
}

function endpointWants(endpoint: StoredWebhookEndpoint, type: string): boolean {
  if (endpoint.status !== "enabled") return false;
  return endpoint.enabled_events.includes("*") || endpoint.enabled_events.includes(type);
}

/** How deliveries behave; tests change it through `/_emulator/webhooks/settings`. */
export interface DeliverySettings {
  /** New deliveries are kept as "held" until released or dropped. */
  hold: boolean;
  /** How long each first attempt waits before it is sent. */
  delay_ms: number;
  /** Every attempt is sent this many times at once, as a duplicated webhook. */
  copies: number;
}

export const DEFAULT_DELIVERY_SETTINGS: Readonly<DeliverySettings> = {
  hold: false,
  delay_ms: 0,
  copies: 1,
};

/** A delivery and the answer its attempt got (null when it was not sent). */
export interface SentDelivery {
  delivery: Delivery;
  result: DeliveryAttempt | null;
}

/** When one delivery of a burst went out and when it finished, retries included. */
export interface BurstDelivery {
  delivery: Delivery;
  /** Unix ms of the first attempt; null when it was never sent. */
  firstSentAt: number | null;
  /** Unix ms when it succeeded or ran out of retries; null when it never did. */
  finishedAt: number | null;
}

interface SignedRequest {
  url: string;
  payload: string;
  signature: string;
  at: number;
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
 *
 * The settings let a test hold deliveries back and release them in any order,
 * delay them, or send each one several times at once; held and dropped
 * deliveries are not pending, so waiting for delivery does not wait for them.
 */
export class WebhookDeliveries {
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busyEndpoints = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  /** Deliveries whose end a burst awaits, by delivery id. */
  private readonly endWaiters = new Map<string, () => void>();
  /** While set, new events are collected here instead of being delivered. */
  private captured: StoredEvent[] | null = null;
  private settings: DeliverySettings = { ...DEFAULT_DELIVERY_SETTINGS };

  constructor(
    private readonly store: Store,
    private readonly retryDelaysMs: readonly number[],
    private readonly log: (line: string) => void,
  ) {}

  /** Changes some settings and answers all of them. */
  configure(changes: Partial<DeliverySettings> = {}): DeliverySettings {
    this.settings = { ...this.settings, ...changes };
    return { ...this.settings };
  }

  /** Creates one delivery per interested endpoint and starts sending, or holds it. */
  enqueue(event: StoredEvent): void {
    if (this.captured) {
      this.captured.push(event);
      return;
    }
    const state = this.settings.hold ? "held" : "pending";
    for (const endpoint of this.endpointsFor(event)) {
      const delivery = this.createDelivery(event, endpoint, state);
      if (state === "pending") this.startFirstAttempt(delivery);
    }
    this.updatePendingCount(event.id);
  }

  /** Picks up deliveries left pending when a saved state was loaded. */
  resumePending(): void {
    for (const delivery of this.store.deliveries.all()) {
      if (delivery.state === "pending") this.push(delivery);
    }
  }

  /** Held deliveries, oldest first. */
  held(): Delivery[] {
    return this.store.deliveries.all().filter((d) => d.state === "held");
  }

  /**
   * Sends held deliveries one after another, each after the previous one was
   * answered. A failed one goes on to the usual retries.
   */
  async release(deliveries: readonly Delivery[]): Promise<SentDelivery[]> {
    const sent: SentDelivery[] = [];
    for (const delivery of deliveries) {
      if (delivery.state !== "held") continue;
      delivery.state = "pending";
      sent.push({ delivery, result: await this.attempt(delivery) });
    }
    return sent;
  }

  /** Marks held deliveries as dropped: they are never sent. */
  drop(deliveries: readonly Delivery[]): number {
    const held = deliveries.filter((delivery) => delivery.state === "held");
    for (const delivery of held) delivery.state = "dropped";
    for (const eventId of new Set(held.map((d) => d.eventId))) {
      this.updatePendingCount(eventId);
    }
    this.store.markChanged();
    return held.length;
  }

  /**
   * Sends a stored event again, now, as a new delivery to every endpoint that
   * wants it, whatever happened to it before; held or not.
   */
  async redeliver(event: StoredEvent): Promise<SentDelivery[]> {
    const deliveries = this.endpointsFor(event).map((endpoint) =>
      this.createDelivery(event, endpoint, "pending"),
    );
    const sent: SentDelivery[] = [];
    for (const delivery of deliveries) {
      sent.push({ delivery, result: await this.attempt(delivery) });
    }
    return sent;
  }

  /**
   * Runs `create`, which records events the usual way (`emitEvent`), and
   * answers those events without delivering them, for `sendBurst` to send.
   * `create` must be synchronous, so no other event is caught.
   */
  captureEvents(create: () => void): StoredEvent[] {
    const captured: StoredEvent[] = [];
    this.captured = captured;
    try {
      create();
    } finally {
      this.captured = null;
    }
    return captured;
  }

  /** One new pending delivery of `event` per endpoint that wants its type. */
  createDeliveries(event: StoredEvent): Delivery[] {
    const created = this.endpointsFor(event).map((endpoint) =>
      this.createDelivery(event, endpoint, "pending"),
    );
    this.updatePendingCount(event.id);
    return created;
  }

  /**
   * Sends pending deliveries in the given order, with up to `concurrency`
   * first attempts in flight at once and outside the endpoints' queues. A
   * failed attempt goes on to the usual retries, which do not hold a slot.
   * Resolves once every delivery succeeded or ran out of retries.
   */
  async sendBurst(
    deliveries: readonly Delivery[],
    concurrency: number,
  ): Promise<BurstDelivery[]> {
    const sent = deliveries.map((delivery): BurstDelivery => {
      return { delivery, firstSentAt: null, finishedAt: null };
    });
    const ended = sent.map((entry) => this.untilEnded(entry));

    let next = 0;
    const worker = async (): Promise<void> => {
      for (let entry = sent[next++]; entry; entry = sent[next++]) {
        await this.attempt(entry.delivery);
        entry.firstSentAt = entry.delivery.attempts[0]?.at ?? null;
      }
    };
    const workers = Math.max(1, Math.min(concurrency, sent.length));
    await Promise.all(Array.from({ length: workers }, worker));
    await Promise.all(ended);
    return sent;
  }

  /** Resolves when the delivery succeeds or fails for good, or sending stops. */
  private untilEnded(entry: BurstDelivery): Promise<void> {
    return new Promise((resolve) => {
      this.endWaiters.set(entry.delivery.id, () => {
        if (isFinished(entry.delivery)) entry.finishedAt = Date.now();
        resolve();
      });
    });
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

  /** Forgets queued work and restores the default settings; used by reset. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queues.clear();
    this.settings = { ...DEFAULT_DELIVERY_SETTINGS };
    for (const end of [...this.endWaiters.values()]) end();
    this.endWaiters.clear();
    this.notifyIfIdle();
  }

  /** Stops all sending: pending timers are dropped, requests in flight aborted. */
  close(): void {
    this.abort.abort();
    this.clear();
  }

  private endpointsFor(event: StoredEvent): StoredWebhookEndpoint[] {
    return this.store.webhookEndpoints
      .all()
      .filter((endpoint) => endpointWants(endpoint, event.type));
  }

  private createDelivery(
    event: StoredEvent,
    endpoint: StoredWebhookEndpoint,
    state: Delivery["state"],
  ): Delivery {
    return this.store.deliveries.insert({
      id: newId("whdel"),
      eventId: event.id,
      endpointId: endpoint.id,
      url: endpoint.url,
      state,
      attempts: [],
    });
  }

  private startFirstAttempt(delivery: Delivery): void {
    const delay = this.settings.delay_ms;
    if (delay > 0) this.later(delay, () => this.push(delivery));
    else this.push(delivery);
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

  private async attempt(delivery: Delivery): Promise<DeliveryAttempt | null> {
    if (this.abort.signal.aborted) return null;
    const result = await this.send(delivery);
    if (this.abort.signal.aborted || !this.store.deliveries.get(delivery.id)) return null;

    this.record(delivery, result);
    return result;
  }

  private record(delivery: Delivery, result: DeliveryAttempt): void {
    delivery.attempts.push(result);
    const retryDelay = this.retryDelaysMs[delivery.attempts.length - 1];
    const endpointGone = !this.store.webhookEndpoints.get(delivery.endpointId);

    if (succeeded(result)) {
      delivery.state = "succeeded";
    } else if (retryDelay === undefined || endpointGone) {
      delivery.state = "failed";
    } else {
      this.later(retryDelay, () => void this.attempt(delivery));
    }

    this.log(
      `[stripe] webhook ${delivery.eventId} → ${delivery.url}: ` +
        `${result.status ?? result.error} (${delivery.state})`,
    );
    this.updatePendingCount(delivery.eventId);
    this.store.markChanged();
    if (isFinished(delivery)) this.notifyEnded(delivery.id);
    this.notifyIfIdle();
  }

  private notifyEnded(deliveryId: string): void {
    const end = this.endWaiters.get(deliveryId);
    this.endWaiters.delete(deliveryId);
    end?.();
  }

  private later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Sends the attempt `copies` times at once; it succeeds only if every copy did. */
  private async send(delivery: Delivery): Promise<DeliveryAttempt> {
    const request = this.signedRequest(delivery);
    if (!("payload" in request)) return request;

    const copies = Math.max(1, Math.floor(this.settings.copies));
    const results = await Promise.all(
      Array.from({ length: copies }, () => this.post(request)),
    );
    return (
      results.find((result) => !succeeded(result)) ?? (results[0] as DeliveryAttempt)
    );
  }

  private signedRequest(delivery: Delivery): SignedRequest | DeliveryAttempt {
    const at = Date.now();
    const endpoint = this.store.webhookEndpoints.get(delivery.endpointId);
    const event = this.store.events.get(delivery.eventId);
    if (!endpoint || !event) return { at, status: null, error: "endpoint deleted" };

    // Signed with the wall clock, not the test clock: receivers compare the
    // timestamp with their own clock and refuse stale signatures.
    const payload = JSON.stringify(event, null, 2);
    const signature = signPayload(payload, endpoint.secret, Math.floor(at / 1000));
    return { url: endpoint.url, payload, signature, at };
  }

  private async post(request: SignedRequest): Promise<DeliveryAttempt> {
    const { url, payload, signature, at } = request;
    try {
      const response = await fetch(url, {
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

  /**
   * `pending_webhooks`: the endpoints this event has not yet reached, so a
   * successful redelivery settles an endpoint whose first delivery failed.
   */
  private updatePendingCount(eventId: string): void {
    const event = this.store.events.get(eventId);
    if (!event) return;
    const deliveries = this.store.deliveries.all().filter((d) => d.eventId === eventId);
    const reached = new Set(
      deliveries.filter((d) => d.state === "succeeded").map((d) => d.endpointId),
    );
    const endpoints = new Set(deliveries.map((d) => d.endpointId));
    event.pending_webhooks = [...endpoints].filter((id) => !reached.has(id)).length;
  }

  private notifyIfIdle(): void {
    if (this.pendingCount() > 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}
