import type { Reader, ReaderSession } from "./auth/types.ts";

/**
 * What the middleware in server/middleware/ puts on every request's context.
 */
declare module "h3" {
  interface H3EventContext {
    /** The signed-in reader, or null. */
    user: Reader | null;
    session: ReaderSession | null;
    /** The reader's effective tier: their entitlement, or the free tier when signed out. */
    tier: string;
  }
}
