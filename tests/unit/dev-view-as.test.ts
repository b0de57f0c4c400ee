import { describe, expect, it } from "vitest";
import { isLoopback } from "../../server/site/dev-view-as.ts";

describe("who may view the site as another tier in development", () => {
  it("is a browser on this machine", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
      expect(isLoopback(address)).toBe(true);
    }
  });

  it("is never a peer on the network, nor one whose address is unknown", () => {
    for (const address of [
      "192.0.2.2",
      "::ffff:192.0.2.2",
      "fd00::2",
      "127.0.0.1.evil",
      "",
      undefined,
    ]) {
      expect(isLoopback(address)).toBe(false);
    }
  });
});
