import { defineEventHandler } from "h3";
import { freeTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { authenticateRequest } from "../auth/sessions.ts";
import { resolveReaderTier } from "../billing/entitlements.ts";

const FREE_TIER = freeTier(tierwall.tiers).id;

// Every request learns who is reading and, from what they hold (their
// subscriptions and complimentary grant, found with the session), which tier
// that is. The lookup is answered from the session cache while the database
// is unchanged (server/auth/session-cache.ts): any write empties it, so what
// a request sees is what is stored. The tier is worked out on every request,
// not kept: grace periods and scheduled cancellations end with the clock.
export default defineEventHandler(async (event) => {
  const { reader, session, holdings } = await authenticateRequest(event);

  event.context.user = reader;
  event.context.session = session;
  event.context.tier = holdings ? resolveReaderTier(holdings) : FREE_TIER;
});
