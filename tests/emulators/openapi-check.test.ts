import { describe, expect, test } from "vitest";
import { loadContract } from "./support/contracts.ts";
import { checkComponent, type OpenApiDocument } from "./support/openapi-check.ts";

/*
 * The contract tests are only as good as their checker, so it is tested on
 * its own: each rule must reject what it should.
 */

const doc: OpenApiDocument = {
  components: {
    schemas: {
      thing: {
        type: "object",
        required: ["id", "kind"],
        properties: {
          id: { type: "string", maxLength: 8 },
          kind: { type: "string", enum: ["a", "b"] },
          count: { type: "integer", nullable: true },
          owner: { anyOf: [{ type: "string" }, { $ref: "#/components/schemas/owner" }] },
          tags: { type: "array", items: { type: "string" } },
          labels: { type: "object", additionalProperties: { type: "string" } },
          opaque: { $ref: "#/components/schemas/opaque" },
        },
      },
      owner: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" } },
      },
      opaque: { type: "object", "x-subsetStub": "not transcribed" },
    },
  },
};

const valid = { id: "t_1", kind: "a" };

describe("the schema checker", () => {
  test("accepts a conforming object", () => {
    const value = {
      ...valid,
      count: null,
      owner: { name: "x" },
      tags: ["t"],
      labels: { k: "v" },
      opaque: { anything: 1 },
    };
    expect(checkComponent(doc, "thing", value)).toEqual([]);
  });

  test.each([
    ["a missing required property", { id: "t_1" }, 'missing required property "kind"'],
    ["a wrong type", { ...valid, count: 1.5 }, "expected integer, got number"],
    ["a null where not nullable", { ...valid, tags: null }, "null is not allowed here"],
    ["a value outside the enum", { ...valid, kind: "c" }, 'is not one of ["a","b"]'],
    ["a string too long", { ...valid, id: "t_123456789" }, "longer than 8 characters"],
    [
      "an anyOf no branch matches",
      { ...valid, owner: { nom: "x" } },
      'missing required property "name"',
    ],
    ["a bad array item", { ...valid, tags: [1] }, "expected string, got integer"],
    [
      "a bad additionalProperties value",
      { ...valid, labels: { k: 1 } },
      "expected string",
    ],
    ["a stub given a non-object", { ...valid, opaque: "x" }, "expected an object"],
    ["a property the schema lacks", { ...valid, plan: {} }, "property not in the schema"],
  ])("rejects %s", (_name, value, message) => {
    const problems = checkComponent(doc, "thing", value);
    expect(problems.map((p) => p.message).join("\n")).toContain(message);
  });

  test("flags the fields Stripe's older fixtures carry and this API version dropped", () => {
    const stripe = loadContract("stripe-subset.json");
    const fixtures = loadContract<{ resources: Record<string, unknown> }>(
      "stripe-fixtures.json",
    );

    const item = checkComponent(
      stripe,
      "subscription_item",
      fixtures.resources.subscription_item,
    );
    const product = checkComponent(stripe, "product", fixtures.resources.product);

    expect(item).toContainEqual({
      path: "$.plan",
      message: "property not in the schema",
    });
    expect(product).toContainEqual({
      path: "$.type",
      message: "property not in the schema",
    });
    expect(checkComponent(stripe, "price", fixtures.resources.price)).toEqual([]);
  });
});
