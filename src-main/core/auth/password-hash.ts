/**
 * Offline login verifiers: Argon2id (OWASP's m=19 MiB, t=2, p=1 by default, ~60 ms here). The hash
 * string carries its own parameters, so a verifier made with other costs still verifies.
 */
import { hash, verify } from '@node-rs/argon2';

export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Argon2id is @node-rs/argon2's default algorithm (its enum is a const enum we cannot import). */
export function hashPassword(password: string, cost: Argon2Cost = OWASP_ARGON2ID): Promise<string> {
  return hash(password, cost);
}

/** False on a wrong password and on a malformed stored hash (never throws on bad input). */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
