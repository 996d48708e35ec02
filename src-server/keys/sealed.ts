/**
 * Everything the server keeps wrapped by the KEK, in one place, so that KEK rotation cannot miss a
 * column: patient data keys (data_keys.wrapped) and the server's own secrets (server_secrets:
 * the JWT signing key, the key that seals free-text notes). Records are never touched: they are
 * sealed with patient data keys, which do not change.
 */
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import type { Db, Sql } from '../db/db';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { kekIdOf, type KeyProvider } from './key-provider';
import { writeAudit } from '../services/server-audit';
import * as dataKeys from '../store/data-keys';
import * as serverSecrets from '../store/server-secrets';

export const dataKeyAad = (patientId: string, keyId: string): string => `data-key|${patientId}|${keyId}`;
const secretAad = (name: string): string => `server-secret|${name}`;

/** A 32-byte server secret, created once by whichever instance gets there first, shared by all. */
export async function serverSecret(db: Db, keys: KeyProvider, name: string): Promise<Buffer> {
  const existing = await serverSecrets.wrappedOf(db, name);
  if (existing) return keys.unwrap(existing, secretAad(name));
  await serverSecrets.insertFirst(db, name, await keys.wrap(randomBytes(32), secretAad(name)));
  // Read back: another instance may have stored its secret first, and that one is everyone's.
  return keys.unwrap((await serverSecrets.wrappedOf(db, name))!, secretAad(name));
}

/** Seals free text the server must keep but never show in the clear (break-glass justifications, review notes). */
export function sealText(key: Buffer, text: string, aad: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(text, 'utf8'), c.final()]);
  return [nonce, ct, c.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

export function openText(key: Buffer, sealed: string, aad: string): string {
  const [nonce, ct, tag] = sealed.split('.');
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce ?? '', 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct ?? '', 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new EhrError(ErrorCode.INTEGRITY, 'Sealed note failed its integrity check.');
  }
}

export interface RotationReport {
  oldKekIds: string[];
  newKekId: string;
  dataKeys: number;
  secrets: number;
}

/**
 * KEK rotation: make a new KEK current, re-wrap every wrapped row under it in one transaction,
 * then retire the old KEKs. A crash before commit leaves the old wraps valid (old KEKs still exist).
 */
export async function rotateKek(db: Db, keys: KeyProvider): Promise<RotationReport> {
  const newKekId = await keys.rotate();
  const old = new Set<string>();
  const counts = await db.tx(async (sql: Sql) => {
    const dks = await dataKeys.allForUpdate(sql);
    for (const dk of dks) {
      old.add(kekIdOf(dk.wrapped));
      const aad = dataKeyAad(dk.patient_id, dk.key_id);
      const rewrapped = await keys.wrap(await keys.unwrap(dk.wrapped, aad), aad);
      await dataKeys.setWrapped(sql, dk.patient_id, dk.key_id, rewrapped);
    }
    const secrets = await serverSecrets.allForUpdate(sql);
    for (const s of secrets) {
      old.add(kekIdOf(s.wrapped));
      const aad = secretAad(s.name);
      await serverSecrets.setWrapped(sql, s.name, await keys.wrap(await keys.unwrap(s.wrapped, aad), aad));
    }
    await writeAudit(sql, {
      type: 'kek-rotated', action: 'U', outcome: 'success', severity: 'high',
      detail: { newKekId, dataKeys: dks.length, secrets: secrets.length },
    });
    return { dataKeys: dks.length, secrets: secrets.length };
  });
  old.delete(newKekId);
  for (const id of old) await keys.retire(id);
  return { oldKekIds: [...old], newKekId, ...counts };
}
