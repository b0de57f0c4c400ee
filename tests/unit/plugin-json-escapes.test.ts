import { describe, expect, it } from "vitest";
import { decodeJsonEscapes } from "../../plugin/json-escapes.ts";

describe("reading JSON-escaped text", () => {
  it("undoes quotes, backslashes and slashes", () => {
    expect(decodeJsonEscapes(String.raw`the code is \"4711\" in C:\\vault \/ safe`)).toBe(
      'the code is "4711" in C:\\vault / safe',
    );
  });

  it("undoes unicode escapes, including surrogate pairs", () => {
    expect(decodeJsonEscapes(String.raw`it\u2019s \u003cb\u003e \ud83d\udd12`)).toBe(
      "it’s <b> 🔒",
    );
  });

  it("turns escaped line breaks into real ones", () => {
    expect(decodeJsonEscapes(String.raw`one\ntwo`)).toBe("one\ntwo");
  });

  it("reads JSON that JSON.stringify wrote exactly as the original text", () => {
    const original = 'He said "rotate it" — then left.\nNext line </script>';
    const embedded = JSON.stringify({ articleBody: original }).replace(/</g, "\\u003c");
    expect(decodeJsonEscapes(embedded)).toContain(original);
  });
});
