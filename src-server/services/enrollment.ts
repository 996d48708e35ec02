/**
 * One-time device enrollment codes: issued by an admin (or at first start), used once by a
 * workstation to register its key. Only a hash of each code is stored, normalised so the code can
 * be read aloud and typed with or without its dashes, in either case.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../db/db';
import * as enrollmentCodes from '../store/enrollment-codes';

const hashCode = (code: string): string => createHash('sha256').update(code.replace(/-/g, '').toUpperCase()).digest('hex');

/** A one-time code (stored hashed): 16 characters from an unambiguous alphabet, grouped for reading aloud. */
export async function issueEnrollmentCode(sql: Sql, createdBy: string, minutes: number, now: Date): Promise<{ code: string; expiresAt: string }> {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const chars = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
  const code = chars.match(/.{4}/g)!.join('-');
  const expiresAt = new Date(now.getTime() + minutes * 60_000);
  await enrollmentCodes.insert(sql, hashCode(code), createdBy, expiresAt);
  return { code, expiresAt: expiresAt.toISOString() };
}

/** Uses the code for this device; false when it is wrong, used or expired. */
export function redeemEnrollmentCode(sql: Sql, code: string, deviceId: string, now: Date): Promise<boolean> {
  return enrollmentCodes.consume(sql, hashCode(code), deviceId, now);
}
