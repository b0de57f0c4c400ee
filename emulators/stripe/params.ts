import { z } from "zod";
import { missingParam, StripeApiError } from "./errors.ts";

/*
 * Request parameters arrive form-encoded (`metadata[tier]=core`, `expand[0]=…`)
 * and are parsed with qs, so every leaf is a string. These schemas turn the
 * strings into values and report problems the way Stripe does, naming the
 * parameter in bracket form (`line_items[0][price]`).
 */

export const text = z.string({ error: "Invalid string" });

export const flag = z
  .enum(["true", "false"], { error: "Invalid boolean" })
  .transform((value) => value === "true");

export const integer = z
  .string({ error: "Invalid integer" })
  .regex(/^-?\d+$/, { error: "Invalid integer" })
  .transform(Number);

export const positiveInteger = integer.refine((value) => value > 0, {
  error: "This value must be greater than or equal to 1.",
});

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `Invalid value: must be one of ${values.join(", ")}` });
}

/** `metadata[key]=value`; an empty value removes the key on update. */
export const metadata = z.record(z.string(), z.string({ error: "Invalid string" }));

/** On update, `metadata=` (empty) clears every key. */
export const metadataUpdate = z.union([z.literal("").transform(() => null), metadata]);

/** A list sent as `x[0]=a` or `x[]=a`; a lone `x=a` counts as one item. */
export function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) => (typeof value === "string" ? [value] : value),
    z.array(item),
  );
}

/** `expand[]`, accepted by every endpoint. */
export const expand = list(text).optional();

/** The `expand[]` paths of a request that takes no other parameters. */
export function readExpand(raw: unknown): string[] {
  return parseParams(z.object({ expand }), raw).expand ?? [];
}

export const pagination = {
  limit: integer
    .refine((value) => value >= 1 && value <= 100, {
      error: "Invalid limit: must be between 1 and 100",
    })
    .optional(),
  starting_after: text.optional(),
  ending_before: text.optional(),
};

function paramName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return (head ?? "") + rest.map((part) => `[${part}]`).join("");
}

/** Validates parameters against a schema, throwing a Stripe-shaped 400 on failure. */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  if (!issue) throw new StripeApiError(400, "Invalid request.");

  const param = paramName(issue.path);
  if (issue.code === "invalid_type" && !("input" in issue)) throw missingParam(param);

  const shown = typeof issue.input === "string" ? `: ${issue.input}` : "";
  throw new StripeApiError(400, `${issue.message} for ${param}${shown}`, {
    param,
    code: "parameter_invalid",
  });
}

/** Applies a metadata update: empty values delete keys, others overwrite. */
export function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string> | null | undefined,
): Record<string, string> {
  if (update === null) return {};
  const merged = { ...current, ...update };
  for (const [key, value] of Object.entries(merged)) {
    if (value === "") delete merged[key];
  }
  return merged;
}
