import {
  type App,
  createApp,
  createRouter,
  eventHandler,
  getRequestHeader,
  getRouterParam,
  type H3Event,
  type Router,
  readRawBody,
  setResponseHeader,
  setResponseStatus,
} from "h3";
import qs from "qs";
import {
  createCheckoutSession,
  expireCheckoutSession,
  listCheckoutSessions,
  listSessionLineItems,
  retrieveCheckoutSession,
} from "./checkout.ts";
import type { EmulatorContext } from "./context.ts";
import { registerControlRoutes } from "./control.ts";
import {
  createCoupon,
  deleteCoupon,
  listCoupons,
  retrieveCoupon,
  updateCoupon,
} from "./coupons.ts";
import {
  createCustomer,
  listCustomers,
  retrieveCustomer,
  searchCustomers,
  updateCustomer,
} from "./customers.ts";
import { StripeApiError } from "./errors.ts";
import { listEvents, retrieveEvent } from "./events.ts";
import { registerHostedPages } from "./hosted.ts";
import { runIdempotent } from "./idempotency.ts";
import { newId } from "./ids.ts";
import { listInvoices, retrieveInvoice } from "./invoices.ts";
import { createPortalSession } from "./portal.ts";
import {
  createPortalConfiguration,
  listPortalConfigurations,
  retrievePortalConfiguration,
  updatePortalConfiguration,
} from "./portal-configurations.ts";
import { createPrice, listPrices, retrievePrice, updatePrice } from "./prices.ts";
import {
  createProduct,
  listProducts,
  retrieveProduct,
  updateProduct,
} from "./products.ts";
import {
  createPromotionCode,
  listPromotionCodes,
  retrievePromotionCode,
  updatePromotionCode,
} from "./promotion-codes.ts";
import {
  cancelSubscription,
  createSubscription,
  listSubscriptions,
  retrieveSubscription,
  updateSubscription,
} from "./subscriptions.ts";
import { API_VERSION } from "./types.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from "./webhooks.ts";

/** A route's work: parsed parameters and the `:id` path segment in, a Stripe object out. */
type ApiHandler = (ctx: EmulatorContext, params: unknown, id: string) => unknown;

const QS_OPTIONS = { arrayLimit: 100, depth: 10, parameterLimit: 10_000 };

function authenticate(event: H3Event): void {
  const header = getRequestHeader(event, "authorization") ?? "";
  const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!key) {
    throw new StripeApiError(
      401,
      "You did not provide an API key. You need to provide your API key in the " +
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer sk_test_…').",
    );
  }
  if (!/^(sk|rk)_test_/.test(key)) {
    throw new StripeApiError(
      401,
      `Invalid API Key provided: ${key.slice(0, 8)}…. The emulator accepts test-mode keys (sk_test_…) only.`,
      { code: "api_key_invalid" },
    );
  }
}

async function readParams(event: H3Event): Promise<{ raw: string; params: unknown }> {
  if (event.method === "POST") {
    const raw = (await readRawBody(event, "utf8")) ?? "";
    return { raw, params: qs.parse(raw, QS_OPTIONS) };
  }
  const query = event.path.split("?")[1] ?? "";
  return { raw: query, params: qs.parse(query, QS_OPTIONS) };
}

function sendError(ctx: EmulatorContext, event: H3Event, error: unknown): unknown {
  if (error instanceof StripeApiError) {
    setResponseStatus(event, error.statusCode);
    return error.toBody();
  }

  ctx.log(
    `[stripe] ${event.method} ${event.path} failed: ${error instanceof Error ? error.stack : error}`,
  );
  setResponseStatus(event, 500);
  setResponseHeader(event, "Stripe-Should-Retry", "false");
  const message = error instanceof Error ? error.message : String(error);
  return new StripeApiError(500, `The emulator failed: ${message}`, {
    type: "api_error",
  }).toBody();
}

/** Runs the handler with the request recorded for the events it emits. */
function runHandler(
  ctx: EmulatorContext,
  event: H3Event,
  handler: ApiHandler,
  params: unknown,
): unknown {
  const requestId = String(event.context.requestId);
  const idempotencyKey = getRequestHeader(event, "idempotency-key") ?? null;
  ctx.activeRequest = { id: requestId, idempotencyKey };
  try {
    return handler(ctx, params, getRouterParam(event, "id") ?? "");
  } finally {
    ctx.activeRequest = null;
  }
}

/** Wraps a handler with what every Stripe API route shares. */
function apiRoute(ctx: EmulatorContext, handler: ApiHandler) {
  return eventHandler(async (event) => {
    event.context.requestId = newId("req", 14);
    setResponseHeader(event, "Request-Id", String(event.context.requestId));
    setResponseHeader(event, "Stripe-Version", API_VERSION);
    try {
      authenticate(event);
      const { raw, params } = await readParams(event);
      const run = (): unknown => runHandler(ctx, event, handler, params);
      // Reads can change state too: an overdue Checkout Session expires when looked at.
      ctx.store.markChanged();
      if (event.method === "GET") return run();

      const key = getRequestHeader(event, "idempotency-key");
      const result = runIdempotent(
        ctx,
        { key, route: `${event.method} ${event.path.split("?")[0]}`, body: raw },
        run,
      );
      if (result.replayed) setResponseHeader(event, "Idempotent-Replayed", "true");
      ctx.log(`[stripe] ${event.method} ${event.path} 200`);
      return result.body;
    } catch (error) {
      return sendError(ctx, event, error);
    }
  });
}

function registerApiRoutes(router: Router, ctx: EmulatorContext): void {
  const get = (path: string, handler: ApiHandler): void =>
    void router.get(path, apiRoute(ctx, handler));
  const post = (path: string, handler: ApiHandler): void =>
    void router.post(path, apiRoute(ctx, handler));
  const del = (path: string, handler: ApiHandler): void =>
    void router.delete(path, apiRoute(ctx, handler));

  get("/v1/products", listProducts);
  post("/v1/products", createProduct);
  get("/v1/products/:id", (c, params, id) => retrieveProduct(c, id, params));
  post("/v1/products/:id", (c, params, id) => updateProduct(c, id, params));

  get("/v1/prices", listPrices);
  post("/v1/prices", createPrice);
  get("/v1/prices/:id", (c, params, id) => retrievePrice(c, id, params));
  post("/v1/prices/:id", (c, params, id) => updatePrice(c, id, params));

  get("/v1/coupons", listCoupons);
  post("/v1/coupons", createCoupon);
  get("/v1/coupons/:id", (c, params, id) => retrieveCoupon(c, id, params));
  post("/v1/coupons/:id", (c, params, id) => updateCoupon(c, id, params));
  del("/v1/coupons/:id", (c, _params, id) => deleteCoupon(c, id));

  get("/v1/promotion_codes", listPromotionCodes);
  post("/v1/promotion_codes", createPromotionCode);
  get("/v1/promotion_codes/:id", (c, params, id) => retrievePromotionCode(c, id, params));
  post("/v1/promotion_codes/:id", (c, params, id) => updatePromotionCode(c, id, params));

  get("/v1/customers", listCustomers);
  post("/v1/customers", createCustomer);
  get("/v1/customers/search", searchCustomers);
  get("/v1/customers/:id", (c, params, id) => retrieveCustomer(c, id, params));
  post("/v1/customers/:id", (c, params, id) => updateCustomer(c, id, params));

  get("/v1/checkout/sessions", listCheckoutSessions);
  post("/v1/checkout/sessions", createCheckoutSession);
  get("/v1/checkout/sessions/:id", (c, params, id) =>
    retrieveCheckoutSession(c, id, params),
  );
  get("/v1/checkout/sessions/:id/line_items", (c, params, id) =>
    listSessionLineItems(c, id, params),
  );
  post("/v1/checkout/sessions/:id/expire", (c, params, id) =>
    expireCheckoutSession(c, id, params),
  );

  get("/v1/subscriptions", listSubscriptions);
  post("/v1/subscriptions", createSubscription);
  get("/v1/subscriptions/:id", (c, params, id) => retrieveSubscription(c, id, params));
  post("/v1/subscriptions/:id", (c, params, id) => updateSubscription(c, id, params));
  del("/v1/subscriptions/:id", (c, params, id) => cancelSubscription(c, id, params));

  get("/v1/invoices", listInvoices);
  get("/v1/invoices/:id", (c, params, id) => retrieveInvoice(c, id, params));

  post("/v1/billing_portal/sessions", createPortalSession);

  get("/v1/billing_portal/configurations", listPortalConfigurations);
  post("/v1/billing_portal/configurations", createPortalConfiguration);
  get("/v1/billing_portal/configurations/:id", (c, params, id) =>
    retrievePortalConfiguration(c, id, params),
  );
  post("/v1/billing_portal/configurations/:id", (c, params, id) =>
    updatePortalConfiguration(c, id, params),
  );

  get("/v1/webhook_endpoints", listWebhookEndpoints);
  post("/v1/webhook_endpoints", createWebhookEndpoint);
  get("/v1/webhook_endpoints/:id", (c, _params, id) => retrieveWebhookEndpoint(c, id));
  post("/v1/webhook_endpoints/:id", (c, params, id) =>
    updateWebhookEndpoint(c, id, params),
  );
  del("/v1/webhook_endpoints/:id", (c, _params, id) => deleteWebhookEndpoint(c, id));

  get("/v1/events", listEvents);
  get("/v1/events/:id", (c, _params, id) => retrieveEvent(c, id));
}

/**
 * During an emulated outage every /v1 request fails before it is routed, the
 * way Stripe answers when it cannot serve a request; everything else works.
 */
function outageGuard(ctx: EmulatorContext) {
  return eventHandler((event) => {
    if (!ctx.apiOutage || !event.path.startsWith("/v1/")) return;
    setResponseStatus(event, 500);
    setResponseHeader(event, "Stripe-Should-Retry", "false");
    setResponseHeader(event, "Request-Id", newId("req", 14));
    const error = new StripeApiError(500, "Stripe is unavailable (emulated outage)", {
      type: "api_error",
    });
    return error.toBody();
  });
}

/** Anything else under /v1 gets Stripe's answer for an unknown route. */
function unknownRoute(ctx: EmulatorContext) {
  return eventHandler((event) => {
    const path = event.path.split("?")[0] ?? "";
    const error = path.startsWith("/v1/")
      ? new StripeApiError(404, `Unrecognized request URL (${event.method}: ${path}).`)
      : new StripeApiError(404, `Nothing here: ${event.method} ${path}.`);
    return sendError(ctx, event, error);
  });
}

/** The emulator's h3 app: Stripe's API under /v1, hosted pages, and /_emulator/ routes. */
export function createEmulatorApp(ctx: EmulatorContext): App {
  const app = createApp();
  const router = createRouter();
  app.use(outageGuard(ctx));
  registerApiRoutes(router, ctx);
  registerHostedPages(router, ctx);
  registerControlRoutes(router, ctx);
  app.use(router);
  app.use(unknownRoute(ctx));
  return app;
}
