/**
 * A small validator for the OpenAPI subsets in ../shared/contracts: it checks a
 * JSON value against a component schema the way the contract tests need.
 *
 * - `required` properties must be present; present properties must match their
 *   schema (type, `enum`, `nullable`, `maxLength`, `pattern`, nested objects
 *   and arrays).
 * - `$ref`s are followed; a schema marked `x-subsetStub` was not transcribed,
 *   so it accepts any object.
 * - `anyOf` passes when one branch passes, `oneOf` when exactly one does,
 *   `allOf` when all do.
 * - With `strict` (the default), an object whose schema lists `properties`
 *   may not carry a property the schema lacks, unless `additionalProperties`
 *   allows it. This is what keeps an emulator from inventing fields.
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  "x-subsetStub"?: string;
  "x-stripeBypassValidation"?: boolean;
}

export interface OpenApiOperation {
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, Schema> };
}

/** The JSON schema of an operation's response, e.g. ("/v1/prices", "get", "200"). */
export function responseSchema(
  doc: OpenApiDocument,
  path: string,
  method: string,
  status = "200",
): Schema {
  const schema =
    doc.paths?.[path]?.[method]?.responses?.[status]?.content?.["application/json"]
      ?.schema;
  if (!schema) {
    throw new Error(
      `The contract has no ${status} response for ${method.toUpperCase()} ${path}`,
    );
  }
  return schema;
}

export interface SchemaProblem {
  /** JSONPath-like location, e.g. "$.items.data[0].price.recurring". */
  path: string;
  message: string;
}

interface Check {
  doc: OpenApiDocument;
  strict: boolean;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(expected: string, value: unknown): boolean {
  const actual = typeOf(value);
  if (expected === "number") return actual === "number" || actual === "integer";
  return expected === actual;
}

function allowsNull(schema: Schema): boolean {
  if (schema.nullable === true) return true;
  return Array.isArray(schema.type) && schema.type.includes("null");
}

function resolveRef(check: Check, ref: string, path: string): Schema | SchemaProblem {
  const name = ref.replace("#/components/schemas/", "");
  const schema = check.doc.components.schemas[name];
  return schema ?? { path, message: `unresolved $ref ${ref}` };
}

function checkBranches(check: Check, branches: Schema[], value: unknown, path: string) {
  return branches.map((branch) => validate(check, branch, value, path));
}

/**
 * The most telling failure among branches: a branch whose type did not even
 * match says less than one that matched and failed inside.
 */
function closest(results: SchemaProblem[][], path: string): SchemaProblem[] {
  const score = (problems: SchemaProblem[]): number =>
    problems.length +
    (problems.some((p) => p.path === path && p.message.startsWith("expected"))
      ? 1000
      : 0);
  return results.reduce((best, next) => (score(next) < score(best) ? next : best));
}

function checkCombinators(
  check: Check,
  schema: Schema,
  value: unknown,
  path: string,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (schema.anyOf) {
    const results = checkBranches(check, schema.anyOf, value, path);
    if (!results.some((r) => r.length === 0)) problems.push(...closest(results, path));
  }
  if (schema.oneOf) {
    const results = checkBranches(check, schema.oneOf, value, path);
    const passing = results.filter((r) => r.length === 0).length;
    if (passing === 0) problems.push(...closest(results, path));
    if (passing > 1) {
      problems.push({ path, message: "matches more than one oneOf branch" });
    }
  }
  for (const branch of schema.allOf ?? [])
    problems.push(...validate(check, branch, value, path));
  return problems;
}

function checkScalar(schema: Schema, value: unknown, path: string): SchemaProblem[] {
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter(
    (type): type is string => typeof type === "string",
  );
  if (types.length > 0 && !types.some((type) => matchesType(type, value))) {
    return [{ path, message: `expected ${types.join(" | ")}, got ${typeOf(value)}` }];
  }
  if (
    schema.enum &&
    !schema["x-stripeBypassValidation"] &&
    !schema.enum.includes(value)
  ) {
    return [
      {
        path,
        message: `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`,
      },
    ];
  }
  if (
    typeof value === "string" &&
    schema.maxLength !== undefined &&
    value.length > schema.maxLength
  ) {
    return [{ path, message: `longer than ${schema.maxLength} characters` }];
  }
  if (
    typeof value === "string" &&
    schema.pattern &&
    !new RegExp(schema.pattern).test(value)
  ) {
    return [{ path, message: `does not match ${schema.pattern}` }];
  }
  return [];
}

function checkObject(
  check: Check,
  schema: Schema,
  value: Record<string, unknown>,
  path: string,
) {
  const problems: SchemaProblem[] = [];
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) {
      problems.push({ path, message: `missing required property "${name}"` });
    }
  }
  for (const [name, child] of Object.entries(value)) {
    const childPath = `${path}.${name}`;
    const declared = schema.properties?.[name];
    const extra = schema.additionalProperties;
    if (declared) problems.push(...validate(check, declared, child, childPath));
    else if (typeof extra === "object") {
      problems.push(...validate(check, extra, child, childPath));
    } else if (check.strict && schema.properties && extra !== true) {
      problems.push({ path: childPath, message: "property not in the schema" });
    }
  }
  return problems;
}

function validate(
  check: Check,
  schema: Schema,
  value: unknown,
  path: string,
): SchemaProblem[] {
  if (schema.$ref) {
    const target = resolveRef(check, schema.$ref, path);
    if ("message" in target && "path" in target) return [target as SchemaProblem];
    if ((target as Schema)["x-subsetStub"]) {
      return typeOf(value) === "object"
        ? []
        : [{ path, message: `expected an object (${schema.$ref})` }];
    }
    return validate(check, target as Schema, value, path);
  }
  if (value === null) {
    return allowsNull(schema) ? [] : [{ path, message: "null is not allowed here" }];
  }

  const problems = [
    ...checkScalar(schema, value, path),
    ...checkCombinators(check, schema, value, path),
  ];
  if (problems.length > 0) return problems;
  if (Array.isArray(value) && schema.items) {
    return value.flatMap((item, index) =>
      validate(check, schema.items as Schema, item, `${path}[${index}]`),
    );
  }
  if (
    typeOf(value) === "object" &&
    (schema.properties || schema.required || schema.additionalProperties)
  ) {
    return checkObject(check, schema, value as Record<string, unknown>, path);
  }
  return [];
}

/** Problems of `value` against the component schema `name`; empty means it conforms. */
export function checkComponent(
  doc: OpenApiDocument,
  name: string,
  value: unknown,
  options: { strict?: boolean } = {},
): SchemaProblem[] {
  return validate(
    { doc, strict: options.strict ?? true },
    { $ref: `#/components/schemas/${name}` },
    value,
    "$",
  );
}

/** Problems of `value` against an inline schema (e.g. a response's schema). */
export function checkSchema(
  doc: OpenApiDocument,
  schema: Schema,
  value: unknown,
  options: { strict?: boolean } = {},
): SchemaProblem[] {
  return validate({ doc, strict: options.strict ?? true }, schema, value, "$");
}

/** One line per problem, for assertion messages. */
export function describeProblems(problems: SchemaProblem[]): string {
  return problems.map((problem) => `${problem.path}: ${problem.message}`).join("\n");
}
