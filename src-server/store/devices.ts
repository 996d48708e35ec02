/** devices: enrolled workstations, each with its Ed25519 public key (SPKI DER, base64url) and, once revoked, when. */
import type { Sql } from '../db/db';

export interface DeviceRow {
  id: string;
  name: string | null;
  enrolled_at: Date;
  revoked_at: Date | null;
}

const DEVICE = 'id, name, enrolled_at, revoked_at';

export async function isActive(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql.query('SELECT 1 FROM devices WHERE id = $1 AND revoked_at IS NULL', [id]);
  return rows.length > 0;
}

/**
 * The device's public key, with its row locked until the transaction ends: two audit batches of
 * one device never interleave their chains. Null for an unknown device.
 */
export async function publicKeyForUpdate(sql: Sql, id: string): Promise<string | null> {
  const [row] = await sql.query<{ public_key: string }>('SELECT public_key FROM devices WHERE id = $1 FOR UPDATE', [id]);
  return row?.public_key ?? null;
}

/** Enrolls the device; undefined when the id is taken (the existing device is untouched). */
export async function insertNew(sql: Sql, d: { id: string; name: string | null; publicKey: string; enrolledAt: Date }): Promise<DeviceRow | undefined> {
  const [row] = await sql.query<DeviceRow>(
    `INSERT INTO devices (id, name, public_key, enrolled_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING ${DEVICE}`,
    [d.id, d.name, d.publicKey, d.enrolledAt],
  );
  return row;
}

export async function list(sql: Sql): Promise<DeviceRow[]> {
  return sql.query<DeviceRow>(`SELECT ${DEVICE} FROM devices ORDER BY enrolled_at`);
}

/** Revokes at `at` (a revoked device keeps its first time); undefined for an unknown device. */
export async function revoke(sql: Sql, id: string, at: Date): Promise<DeviceRow | undefined> {
  const [row] = await sql.query<DeviceRow>(`UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ${DEVICE}`, [id, at]);
  return row;
}
