import { type Algorithm, hash, verify } from "@node-rs/argon2";

/**
 * Password hashing with argon2id at the parameters OWASP recommends for it
 * (19 MiB, two passes, one lane). The parameters are stored in each hash, so
 * raising them later still verifies the hashes made before.
 */

// The package declares its enum as `const`, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;

const options = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(
  passwordHash: string,
  password: string,
): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash matches nothing.
    return false;
  }
}

let decoyHash: Promise<string> | undefined;

/**
 * Hashes the decoy password in the background, once. The server does so as it
 * starts, so that the first unknown-address sign-in costs one verification,
 * like any other, rather than a hash and a verification.
 */
export function prepareDecoyPassword(): Promise<string> {
  decoyHash ??= hashPassword("tierwall decoy password, never stored");
  return decoyHash;
}

/**
 * Spends the time of a real verification when the address is unknown, so that
 * the response time does not tell an attacker which addresses have accounts.
 */
export async function verifyDecoyPassword(password: string): Promise<false> {
  await verifyPassword(await prepareDecoyPassword(), password);
  return false;
}
