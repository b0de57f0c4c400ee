import type { Tier } from "./config.ts";

/**
 * Tier ordering. Tiers are listed lowest first in `tierwall.config.ts`; the first
 * one is the free tier that every reader, signed in or not, holds.
 */

export function tierRank(tiers: readonly Tier[], tierId: string): number {
  return tiers.findIndex((tier) => tier.id === tierId);
}

export function isKnownTier(tiers: readonly Tier[], tierId: string): boolean {
  return tierRank(tiers, tierId) !== -1;
}

export function freeTier(tiers: readonly Tier[]): Tier {
  const first = tiers[0];
  if (!first) throw new Error("tierwall.config.ts lists no tiers");
  return first;
}

export function isPaidTier(tiers: readonly Tier[], tierId: string): boolean {
  return tierRank(tiers, tierId) > 0;
}

/** Whether a reader holding `readerTier` may read a post of `postTier`. */
export function canRead(
  tiers: readonly Tier[],
  readerTier: string,
  postTier: string,
): boolean {
  const postRank = tierRank(tiers, postTier);
  if (postRank === -1) return false;
  return tierRank(tiers, readerTier) >= postRank;
}

/** The higher of two tiers; an unknown tier never wins. */
export function higherTier(tiers: readonly Tier[], a: string, b: string): string {
  return tierRank(tiers, b) > tierRank(tiers, a) ? b : a;
}

export function tierName(tiers: readonly Tier[], tierId: string): string {
  return tiers.find((tier) => tier.id === tierId)?.name ?? tierId;
}
