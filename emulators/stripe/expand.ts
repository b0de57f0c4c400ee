import type { EmulatorContext } from "./context.ts";
import { StripeApiError } from "./errors.ts";

/*
 * `expand[]` replaces ID strings in a response with the objects they name.
 * A path walks through objects and arrays (`data.product` on a list,
 * `items.data.price.product` on a subscription); an ID met on the way is
 * expanded too, as Stripe does for `subscription.customer`.
 */

type Lookup = (id: string) => object | undefined;
type Json = Record<string, unknown>;

const ID_PATTERN = /^[a-z]+(_test)?_[A-Za-z0-9]+$/;

function cannotExpand(path: string): StripeApiError {
  return new StripeApiError(400, `This property cannot be expanded (${path}).`, {
    param: "expand",
  });
}

function resolve(value: unknown, lookup: Lookup, path: string): unknown {
  // A list of IDs, such as `subscription.discounts`, expands item by item.
  if (Array.isArray(value)) return value.map((item) => resolve(item, lookup, path));
  if (typeof value !== "string") return value;
  if (!ID_PATTERN.test(value)) throw cannotExpand(path);
  return structuredClone(lookup(value)) ?? value;
}

function expandAt(node: unknown, segments: string[], lookup: Lookup, path: string): void {
  if (Array.isArray(node)) {
    for (const item of node) expandAt(item, segments, lookup, path);
    return;
  }
  if (node === null || typeof node !== "object") return;

  const [head, ...rest] = segments;
  if (head === undefined) return;
  const record = node as Json;
  if (!(head in record)) throw cannotExpand(path);

  record[head] = resolve(record[head], lookup, path);
  if (rest.length > 0) expandAt(record[head], rest, lookup, path);
}

/** Returns a copy of `object` with every path in `paths` expanded. */
export function expandObject<T extends object>(
  object: T,
  paths: readonly string[],
  lookup: Lookup,
): T {
  const copy = structuredClone(object);
  for (const path of paths) expandAt(copy, path.split("."), lookup, path);
  return copy;
}

/** `expandObject` against the emulator's store. */
export function expandFrom<T extends object>(
  ctx: EmulatorContext,
  object: T,
  paths: readonly string[] = [],
): T {
  return expandObject(object, paths, (id) => ctx.store.lookup(id));
}
