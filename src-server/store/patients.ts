/**
 * patients: the ids the server knows and whether each is restricted (VIPs, staff). Nothing else
 * about a patient is stored here: the chart is in envelopes.
 */
import type { Sql } from '../db/db';

/** Registers the id; false when it was already known. */
export async function insertIfAbsent(sql: Sql, id: string): Promise<boolean> {
  const inserted = await sql.query('INSERT INTO patients (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id', [id]);
  return inserted.length > 0;
}

/** Registers every id not yet known (unrestricted). */
export async function ensureAll(sql: Sql, ids: readonly string[]): Promise<void> {
  await sql.query('INSERT INTO patients (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [[...ids]]);
}

/** New patients in one statement (the demo seed). */
export async function insertMany(sql: Sql, rows: readonly { id: string; restricted: boolean }[]): Promise<void> {
  await sql.query('INSERT INTO patients (id, restricted) SELECT * FROM unnest($1::text[], $2::boolean[])', [rows.map((r) => r.id), rows.map((r) => r.restricted)]);
}

/** Sets the flag, registering the patient when new. */
export async function setRestricted(sql: Sql, id: string, restricted: boolean): Promise<void> {
  await sql.query('INSERT INTO patients (id, restricted) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET restricted = EXCLUDED.restricted', [id, restricted]);
}

/** Whether the patient is restricted; null when the server does not know the patient. */
export async function restrictedFlag(sql: Sql, id: string): Promise<boolean | null> {
  const [row] = await sql.query<{ restricted: boolean }>('SELECT restricted FROM patients WHERE id = $1', [id]);
  return row ? row.restricted : null;
}

/** The restricted ones among these ids, sorted (never the organisation's whole list). */
export async function restrictedAmong(sql: Sql, ids: readonly string[]): Promise<string[]> {
  const rows = await sql.query<{ id: string }>('SELECT id FROM patients WHERE restricted AND id = ANY($1::text[]) ORDER BY id', [[...ids]]);
  return rows.map((r) => r.id);
}

/** The known ones among these ids. */
export async function knownAmong(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  const rows = await sql.query<{ id: string }>('SELECT id FROM patients WHERE id = ANY($1::text[])', [[...ids]]);
  return new Set(rows.map((r) => r.id));
}
