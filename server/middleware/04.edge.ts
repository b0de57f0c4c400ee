import { defineEventHandler } from "h3";
import { useEdgeConfig } from "../edge/config.ts";
import { syncEdgeCookiesOnResponse } from "../edge/sync.ts";

// With EDGE_COOKIE_SECRET set, every answer from Node keeps the reader's edge
// cookies (which let nginx serve gated pages itself) in step with their tier;
// see server/edge/sync.ts. Without it this middleware does nothing at all. The
// settings are read (and checked) at start by server/plugins/00.settings.ts.
export default defineEventHandler((event) => {
  const edge = useEdgeConfig();
  if (edge) syncEdgeCookiesOnResponse(event, edge);
});
