import tierwall from "../../tierwall.config.ts";
import { isSecureSite } from "../auth/lucia.ts";
import { checkEdgeSecret, DEFAULT_EDGE_TTL_SECONDS } from "./cookies.ts";

/**
 * Whether the server hands out edge cookies, and how. Off unless
 * EDGE_COOKIE_SECRET is set: then every answer from Node keeps the reader's
 * edge cookies in step with their tier (server/middleware/04.edge.ts).
 */

export interface EdgeConfig {
  secret: string;
  /** How long a cookie lasts, and so how long a lowered tier keeps reading. */
  ttlSeconds: number;
  /** `__Host-` names and Secure, exactly when the session cookie has them. */
  secure: boolean;
  /** Paid tier ids, lowest first: the free tier needs no cookie. */
  paidTiers: string[];
}

const MIN_TTL_SECONDS = 30;
const MAX_TTL_SECONDS = 86_400;

let cached: EdgeConfig | null | undefined;

/** The configuration from the environment, read once; null when edge cookies are off. */
export function useEdgeConfig(): EdgeConfig | null {
  if (cached === undefined) cached = readEdgeConfig(process.env);
  return cached;
}

export function readEdgeConfig(env: NodeJS.ProcessEnv): EdgeConfig | null {
  const secret = env.EDGE_COOKIE_SECRET?.trim() ?? "";
  if (secret === "") return null;
  checkEdgeSecret(secret);
  return {
    secret,
    ttlSeconds: readTtl(env.EDGE_COOKIE_TTL_SECONDS),
    secure: isSecureSite(),
    paidTiers: tierwall.tiers.slice(1).map((tier) => tier.id),
  };
}

function readTtl(setting: string | undefined): number {
  if (setting === undefined || setting.trim() === "") return DEFAULT_EDGE_TTL_SECONDS;
  const seconds = Number(setting);
  if (
    !Number.isInteger(seconds) ||
    seconds < MIN_TTL_SECONDS ||
    seconds > MAX_TTL_SECONDS
  ) {
    throw new Error(
      `EDGE_COOKIE_TTL_SECONDS must be a whole number of seconds from ` +
        `${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}, not "${setting}"`,
    );
  }
  return seconds;
}
