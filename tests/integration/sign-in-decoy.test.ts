import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Accounts,
  newAddress,
  newClient,
  startAccountsStack,
} from "../helpers/accounts.ts";
import type { Stack } from "../helpers/stack.ts";

/**
 * A sign-in with an unknown address costs what one with a wrong password
 * does, one argon2 verification, so that the time of the answer does not tell
 * which addresses have accounts. The decoy hash it verifies against is made as
 * the server starts: not even the first unknown-address sign-in after a start
 * pays for a hash on top.
 *
 * The cost is the CPU time the server process spends on the request, read
 * from Linux's per-thread scheduler counters (argon2 runs on libuv's worker
 * threads). Unlike the time of the answer, it does not grow when other
 * processes crowd the machine.
 */

const STARTS = 3;
const WRONG_PASSWORDS_PER_START = 3;
/** Lets the work of a start (the database, the first email poll) settle. */
const SETTLE_MS = 1000;

let stack: Stack;
let accounts: Accounts;

beforeAll(async () => {
  ({ stack, accounts } = await startAccountsStack());
});

afterAll(async () => {
  await accounts?.stop();
});

/** Milliseconds of CPU time the process has used, over all its threads. */
function cpuTimeMs(pid: number): number {
  let nanoseconds = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "utf8");
      nanoseconds += Number(stat.split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nanoseconds / 1e6;
}

/** CPU milliseconds the server spends refusing one sign-in. */
async function costOfRefusedSignIn(email: string): Promise<number> {
  const pid = stack.server.child.pid ?? 0;
  const before = cpuTimeMs(pid);
  const response = await accounts.postJson(
    "/api/auth/login",
    { email, password: "not the password at all" },
    undefined,
    { "x-forwarded-for": newClient() },
  );
  await response.arrayBuffer();
  expect(response.status).toBe(401);
  return cpuTimeMs(pid) - before;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe("the decoy password", () => {
  it("makes the first unknown-address sign-in after a start cost what a wrong password does", async () => {
    const firstUnknown: number[] = [];
    const wrongPassword: number[] = [];

    for (let start = 0; start < STARTS; start++) {
      const reader = await accounts.signUp();
      await stack.restart();
      await new Promise((settled) => setTimeout(settled, SETTLE_MS));
      // Loads the sign-in route and argon2 in the new process, as any
      // earlier request would.
      await costOfRefusedSignIn(reader.email);

      firstUnknown.push(await costOfRefusedSignIn(newAddress("unknown")));
      for (let attempt = 0; attempt < WRONG_PASSWORDS_PER_START; attempt++) {
        wrongPassword.push(await costOfRefusedSignIn(reader.email));
      }
    }

    const round = (values: number[]) => values.map(Math.round).join(", ");
    expect(
      Math.min(...firstUnknown),
      `CPU ms: first unknown-address sign-ins ${round(firstUnknown)}; ` +
        `wrong passwords ${round(wrongPassword)}`,
    ).toBeLessThan(median(wrongPassword) * 1.5);
  });
});
