/** Privacy-officer alerts: break-glass, access-rate spikes, refused plaintext, quarantined device audit entries. Ids and counts only. */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/db';
import type { SafeDetail } from '../../src-shared/errors';

export interface NewAlert {
  kind: 'break-glass' | 'access-rate' | 'plaintext-refused' | 'audit-quarantined';
  severity: 'medium' | 'high';
  userId?: string | null;
  patientId?: string | null;
  detail: SafeDetail;
}

export async function raiseAlert(sql: Sql, a: NewAlert): Promise<string> {
  const id = randomUUID();
  await sql.query('INSERT INTO alerts (id, kind, severity, user_id, patient_id, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
    id, a.kind, a.severity, a.userId ?? null, a.patientId ?? null, JSON.stringify(a.detail),
  ]);
  return id;
}
