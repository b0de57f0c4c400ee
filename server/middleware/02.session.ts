import { defineEventHandler } from "h3";
import { freeTier } from "../../lib/tiers.ts";
import tierwall from "../../tierwall.config.ts";
import { authenticateRequest } from "../auth/sessions.ts";
import { readEntitlement } from "../billing/entitlements.ts";
import { useDb } from "../db/database.ts";

// Every request learns who is reading and which tier they hold, from the
// subscriptions stored for them.
export default defineEventHandler(async (event) => {
  const { reader, session } = await authenticateRequest(event);

  event.context.user = reader;
  event.context.session = session;
  event.context.tier = reader
    ? readEntitlement(useDb(), reader.id).tier
    : freeTier(tierwall.tiers).id;
});
