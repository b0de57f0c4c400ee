import { defineEventHandler } from "h3";
import { applyViewAs, isDevMode } from "../site/dev-view-as.ts";

// After the session: in development (TIERWALL_DEV=1) a writer may view the
// site's pages as any tier; server/site/serve.ts applies the choice.
export default defineEventHandler((event) => {
  if (!isDevMode() || event.path.startsWith("/api/")) return;
  applyViewAs(event);
});
