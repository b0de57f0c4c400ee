import type Stripe from "stripe";
import type { EmulatorContext } from "./context.ts";
import { noSuchObject } from "./errors.ts";
import { expandFrom } from "./expand.ts";

export interface PageParams {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
}

function cursorIndex<T extends { id: string }>(
  rows: T[],
  id: string,
  param: string,
): number {
  const index = rows.findIndex((row) => row.id === id);
  if (index === -1) throw noSuchObject("object", id, param);
  return index;
}

/**
 * One page of a Stripe list object. `rows` come newest first; `starting_after`
 * continues after the given ID, `ending_before` returns the page before it.
 */
export function paginate<T extends { id: string }>(
  rows: T[],
  page: PageParams,
  url: string,
): Stripe.ApiList<T> {
  const limit = page.limit ?? 10;
  let start = 0;
  let end = rows.length;

  if (page.starting_after) {
    start = cursorIndex(rows, page.starting_after, "starting_after") + 1;
  } else if (page.ending_before) {
    end = cursorIndex(rows, page.ending_before, "ending_before");
    start = Math.max(0, end - limit);
  }

  const data = rows.slice(start, Math.min(end, start + limit));
  const hasMore = page.ending_before ? start > 0 : start + limit < end;
  return { object: "list", data, has_more: hasMore, url };
}

/**
 * A list endpoint's answer: one page of `rows`, each shown through `present`
 * (a copy fit for a response), with the request's `expand[]` applied.
 */
export function listPage<T extends { id: string }>(
  ctx: EmulatorContext,
  rows: T[],
  params: PageParams & { expand?: string[] },
  url: string,
  present: (row: T) => T = (row) => row,
): Stripe.ApiList<T> {
  const page = paginate(rows, params, url);
  return expandFrom(ctx, { ...page, data: page.data.map(present) }, params.expand);
}
