import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  takeRateLimitHits,
  verificationEmailsPerAddress,
  verificationEmailsPerClient,
} from "../../server/auth/rate-limit.ts";
import {
  consumeToken,
  findToken,
  hashToken,
  invalidateTokens,
  issueDecoyToken,
  issueToken,
  TOKEN_LIFETIME_SECONDS,
} from "../../server/auth/tokens.ts";
import { type Db, openDatabase } from "../../server/db/database.ts";

const NOW = 1_800_000_000;
let db: Db;

beforeEach(() => {
  db = openDatabase(":memory:");
  for (const id of ["u1", "u2"]) {
    db.prepare(
      "INSERT INTO user (id, email, password_hash, created_at) VALUES (?, ?, 'x', ?)",
    ).run(id, `${id}@example.com`, NOW);
  }
});

afterEach(() => db.close());

describe("emailed link tokens", () => {
  it("are 256 random bits, stored only as their SHA-256", () => {
    const issued = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);

    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(issued.token, "base64url")).toHaveLength(32);
    const rows = db.prepare("SELECT * FROM auth_token").all();
    expect(JSON.stringify(rows)).not.toContain(issued.token);
    expect(rows).toEqual([
      expect.objectContaining({
        id: issued.id,
        token_hash: createHash("sha256").update(issued.token).digest("hex"),
      }),
    ]);
    expect(hashToken(issued.token)).toHaveLength(64);
  });

  it("expire after 48 hours, 15 minutes or an hour, by purpose", () => {
    expect(TOKEN_LIFETIME_SECONDS).toEqual({
      "verify-email": 172_800,
      "change-email": 172_800,
      "sign-in": 900,
      "password-reset": 3600,
    });
    const issued = issueToken(db, { userId: "u1", purpose: "password-reset" }, NOW);
    expect(issued.expiresAt).toBe(NOW + 3600);

    const late = consumeToken(db, issued.token, ["password-reset"], NOW + 3600);
    expect(late).toEqual({ ok: false, reason: "expired" });
    expect(consumeToken(db, issued.token, ["password-reset"], NOW + 3599).ok).toBe(true);
  });

  it("work once", () => {
    const issued = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);
    const first = consumeToken(db, issued.token, ["sign-in"], NOW + 1);
    expect(first).toEqual({
      ok: true,
      record: {
        id: issued.id,
        purpose: "sign-in",
        userId: "u1",
        newEmail: null,
        expiresAt: issued.expiresAt,
      },
    });
    expect(consumeToken(db, issued.token, ["sign-in"], NOW + 2)).toEqual({
      ok: false,
      reason: "used",
    });
  });

  it("stay unused when the transaction that used them fails", () => {
    const issued = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);
    const failing = db.transaction(() => {
      consumeToken(db, issued.token, ["sign-in"], NOW);
      throw new Error("the change failed");
    });

    expect(() => failing()).toThrow("the change failed");
    expect(findToken(db, issued.token, ["sign-in"], NOW).ok).toBe(true);
  });

  it("only work for their own purpose", () => {
    const issued = issueToken(db, { userId: "u1", purpose: "verify-email" }, NOW);
    expect(consumeToken(db, issued.token, ["password-reset"], NOW)).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(consumeToken(db, issued.token, ["verify-email", "change-email"], NOW).ok).toBe(
      true,
    );
  });

  it("replace the reader's older unused ones of the same purpose", () => {
    const older = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);
    const reset = issueToken(db, { userId: "u1", purpose: "password-reset" }, NOW);
    const otherReader = issueToken(db, { userId: "u2", purpose: "sign-in" }, NOW);
    const newer = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW + 5);

    expect(findToken(db, older.token, ["sign-in"], NOW + 6)).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(findToken(db, newer.token, ["sign-in"], NOW + 6).ok).toBe(true);
    expect(findToken(db, reset.token, ["password-reset"], NOW + 6).ok).toBe(true);
    expect(findToken(db, otherReader.token, ["sign-in"], NOW + 6).ok).toBe(true);
  });

  it("keep a change of address's new email with the token", () => {
    const issued = issueToken(
      db,
      { userId: "u1", purpose: "change-email", newEmail: "new@example.com" },
      NOW,
    );
    const used = consumeToken(db, issued.token, ["change-email"], NOW);
    expect(used.ok && used.record.newEmail).toBe("new@example.com");
  });

  it("can all be made dead at once", () => {
    const signIn = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);
    const reset = issueToken(db, { userId: "u1", purpose: "password-reset" }, NOW);
    invalidateTokens(db, "u1");
    expect(findToken(db, signIn.token, ["sign-in"], NOW).ok).toBe(false);
    expect(findToken(db, reset.token, ["password-reset"], NOW).ok).toBe(false);
  });

  it("refuse malformed input without touching the table", () => {
    for (const token of ["", "short", "%".repeat(43), "A".repeat(44)]) {
      expect(consumeToken(db, token, ["sign-in"], NOW)).toEqual({
        ok: false,
        reason: "invalid",
      });
    }
  });

  it("are swept a week after they expire", () => {
    const old = issueToken(db, { userId: "u1", purpose: "sign-in" }, NOW);
    consumeToken(db, old.token, ["sign-in"], NOW);
    issueToken(db, { userId: "u2", purpose: "sign-in" }, NOW + 900 + 7 * 86_400);
    const count = db.prepare("SELECT count(*) AS n FROM auth_token").get() as {
      n: number;
    };
    expect(count.n).toBe(1);
  });

  it("are not made by a decoy, which leaves every reader's links working", () => {
    const kept = issueToken(db, { userId: "u1", purpose: "password-reset" }, NOW);
    issueDecoyToken(db, "password-reset", NOW);

    expect(db.prepare("SELECT id FROM auth_token").all()).toEqual([{ id: kept.id }]);
    expect(findToken(db, kept.token, ["password-reset"], NOW).ok).toBe(true);
  });
});

describe("taking rate limit hits over several buckets", () => {
  const buckets = (address: string, client: string) =>
    [
      [verificationEmailsPerAddress, address],
      [verificationEmailsPerClient, client],
    ] as const;

  it("counts in every bucket until one is full, then counts nowhere", () => {
    for (let hit = 0; hit < 5; hit++) {
      expect(takeRateLimitHits(db, buckets("a@example.com", "10.0.0.1"), NOW)).toEqual({
        limited: false,
      });
    }
    const refused = takeRateLimitHits(db, buckets("a@example.com", "10.0.0.1"), NOW + 60);
    expect(refused).toEqual({ limited: true, retryAfterSeconds: 3600 - 60 });

    // The refused attempt was not counted against the client: 15 more pass.
    for (let hit = 0; hit < 15; hit++) {
      const verdict = takeRateLimitHits(
        db,
        buckets(`b${hit}@example.com`, "10.0.0.1"),
        NOW,
      );
      expect(verdict.limited).toBe(false);
    }
    expect(takeRateLimitHits(db, buckets("c@example.com", "10.0.0.1"), NOW).limited).toBe(
      true,
    );
  });

  it("opens again when the window ends", () => {
    for (let hit = 0; hit < 5; hit++)
      takeRateLimitHits(db, buckets("a@example.com", "x"), NOW);
    expect(takeRateLimitHits(db, buckets("a@example.com", "x"), NOW + 3600).limited).toBe(
      false,
    );
  });
});
