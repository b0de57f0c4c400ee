import { defineEventHandler, type H3Event } from "h3";
import { freeTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { authenticateRequest } from "../auth/sessions.ts";
import { type ReaderHoldings, resolveReaderTier } from "../billing/entitlements.ts";

// Every request learns who is reading and, from the subscriptions stored for
// them (read with the session, on this request), which tier they hold.
export default defineEventHandler(async (event) => {
  const { reader, session, holdings } = await authenticateRequest(event);

  event.context.user = reader;
  event.context.session = session;
  defineTier(event, holdings);
});

/**
 * `event.context.tier` is worked out from the holdings the first time something
 * asks for it during this request. Most requests never ask (public pages,
 * assets, the API); a gated page asks once, for its decision.
 */
function defineTier(event: H3Event, holdings: ReaderHoldings | null): void {
  let tier: string | undefined;
  Object.defineProperty(event.context, "tier", {
    enumerable: true,
    configurable: true,
    get: () => {
      tier ??= holdings ? resolveReaderTier(holdings) : freeTier(tierwall.tiers).id;
      return tier;
    },
    set: (value: string) => {
      tier = value;
    },
  });
}
