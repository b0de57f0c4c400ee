import { defineEventHandler } from "h3";
import { applyViewAs, isDevMode } from "../site/dev-view-as.ts";

// After the session: in development (TIERWALL_DEV=1) a writer may view the
// site's pages as any tier; server/site/serve.ts applies the choice. The mode
// is fixed at start, so production requests skip this entirely.
export default defineEventHandler(
  isDevMode()
    ? (event) => {
        if (!event.path.startsWith("/api/")) applyViewAs(event);
      }
    : () => {},
);
