import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";

/*
 * `Idempotency-Key` on POST requests: the first successful response to a key is
 * stored for 24 hours and replayed for any later request with the same key on
 * the same route. Reusing a key with different parameters is refused, as on
 * Stripe. Failed requests are not stored, so they can be retried. (The SDK
 * sends a fresh key with every POST unless the caller supplies one.)
 */

const KEY_LIFETIME_SECONDS = 24 * 3600;

export interface ApiResult {
  status: number;
  body: unknown;
  replayed: boolean;
}

function pruneExpired(ctx: EmulatorContext): void {
  const cutoff = Math.floor(Date.now() / 1000) - KEY_LIFETIME_SECONDS;
  for (const entry of ctx.store.idempotency.all()) {
    if (entry.createdAt < cutoff) ctx.store.idempotency.delete(entry.id);
  }
}

export function runIdempotent(
  ctx: EmulatorContext,
  request: { key: string | undefined; route: string; body: string },
  run: () => unknown,
): ApiResult {
  const { key, route, body } = request;
  if (!key) return { status: 200, body: run(), replayed: false };
  if (key.length > 255) {
    throw new StripeApiError(400, "Idempotency-Key must be at most 255 characters long.");
  }

  pruneExpired(ctx);
  const id = `${route} ${key}`;
  const earlier = ctx.store.idempotency.get(id);
  if (earlier && earlier.body !== body) {
    throw new StripeApiError(
      400,
      "Keys for idempotent requests can only be used with the same parameters they " +
        `were first used with. Try using a key other than '${key}' if you meant to ` +
        "execute a different request.",
      { type: "idempotency_error" },
    );
  }
  if (earlier) return { status: earlier.status, body: earlier.response, replayed: true };

  const response = run();
  const createdAt = Math.floor(Date.now() / 1000);
  ctx.store.idempotency.insert({
    id,
    key,
    route,
    body,
    status: 200,
    response,
    createdAt,
  });
  return { status: 200, body: response, replayed: false };
}
