/** Privacy-officer alerts: break-glass, access-rate spikes, refused plaintext, quarantined device audit entries. Ids and counts only. */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/db';
import type { SafeDetail } from '../../src-shared/errors';
import * as alerts from '../store/alerts';

/**
 * audit-chain-refused: a device sent a forged chain (fork, gap, edit, bad signature, another
 * device's chain); device-report-refused: a device reported acts of a user with no session on it,
 * or a break-glass end of no grant of its own; late-audit-report: reads received long after (or
 * before) their entry time; audit-quarantined: a device entry the server refused once, kept as its
 * chain link only.
 */
export type AlertKind = 'break-glass' | 'access-rate' | 'plaintext-refused' | 'audit-chain-refused' | 'device-report-refused' | 'late-audit-report' | 'audit-quarantined';

export interface NewAlert {
  kind: AlertKind;
  severity: 'medium' | 'high';
  userId?: string | null;
  patientId?: string | null;
  detail: SafeDetail;
}

export async function raiseAlert(sql: Sql, a: NewAlert): Promise<string> {
  const id = randomUUID();
  await alerts.insert(sql, { id, kind: a.kind, severity: a.severity, userId: a.userId ?? null, patientId: a.patientId ?? null, detail: a.detail });
  return id;
}
