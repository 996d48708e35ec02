/** Argon2id password hashes at OWASP's minimum (m = 19 MiB, t = 2, p = 1). */
import { hash, verify, type Options } from '@node-rs/argon2';

// Algorithm is a const enum in the typings (not importable under isolatedModules); 2 = Argon2id.
const ARGON2ID = 2 as Options['algorithm'];
export const PASSWORD_HASH_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string): Promise<string> => hash(password, PASSWORD_HASH_OPTIONS);

/** A hash of a random password, verified against when the user does not exist, so timing does not reveal usernames. */
let decoy: Promise<string> | undefined;
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hashPassword(`decoy-${Math.random()}`);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
