/**
 * What each pushed mutation did (mutations) and the client envelopes kept when one conflicted
 * (conflicts). A mutation id is answered from here when it is sent again: the replay rule that
 * reads these rows is in services/push.ts.
 */
import type { WireEnvelope } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export interface MutationRow {
  mutation_id: string;
  record_id: string;
  version: number;
  /** 'applied' | 'conflict'. */
  status: string;
  user_id: string;
  /** Null on rows stored before migration 5 (no replay hash then). */
  device_id: string | null;
  payload_hash: string | null;
}

/** Who pushed, from where, when: the same for every row of one batch. */
export interface Pusher {
  userId: string;
  deviceId: string;
}

export interface NewMutation {
  mutationId: string;
  recordId: string;
  version: number;
  status: 'applied' | 'conflict';
  hash: string;
}

export interface NewConflict {
  mutationId: string;
  baseVersion: number;
  serverVersion: number;
  envelope: WireEnvelope;
}

export async function byIds(sql: Sql, mutationIds: readonly string[]): Promise<MutationRow[]> {
  return sql.query<MutationRow>(
    'SELECT mutation_id, record_id, version, status, user_id, device_id, payload_hash FROM mutations WHERE mutation_id = ANY($1::text[])',
    [[...mutationIds]],
  );
}

export async function insertMany(sql: Sql, rows: readonly NewMutation[], who: Pusher, at: Date): Promise<void> {
  if (rows.length === 0) return;
  await sql.query(
    `INSERT INTO mutations (mutation_id, record_id, version, status, user_id, at, device_id, payload_hash)
     SELECT m, r, v, s, $6, $7, $8, h FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[]) AS t(m, r, v, s, h)`,
    [rows.map((r) => r.mutationId), rows.map((r) => r.recordId), rows.map((r) => r.version), rows.map((r) => r.status), rows.map((r) => r.hash), who.userId, at, who.deviceId],
  );
}

/** Keeps the client's side of each conflict (its whole envelope), so nothing clinical is lost. */
export async function keepConflicts(sql: Sql, conflicts: readonly NewConflict[], who: Pusher, at: Date): Promise<void> {
  if (conflicts.length === 0) return;
  await sql.query(
    `INSERT INTO conflicts (mutation_id, record_id, base_version, server_version, envelope, user_id, device_id, at)
     SELECT m, r, b, s, e::jsonb, $6, $7, $8 FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[]) AS t(m, r, b, s, e)`,
    [
      conflicts.map((c) => c.mutationId), conflicts.map((c) => c.envelope.recordId), conflicts.map((c) => c.baseVersion),
      conflicts.map((c) => c.serverVersion), conflicts.map((c) => JSON.stringify(c.envelope)), who.userId, who.deviceId, at,
    ],
  );
}
