/**
 * Offline break-glass grants as the privacy officer reviews them: every device-raised break-glass
 * alert, with the justification the workstation delivered afterwards (null while it has not
 * arrived), plus delivered justifications whose entry ingest matched to an online grant (no alert
 * of their own). Reviewed through the alert's acknowledgement.
 */
import type { OfflineBreakGlassReview } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { openText } from '../keys/sealed';
import * as justifications from '../store/device-justifications';
import { deviceJustificationAad, reviewAad } from './note-aads';

const LIMIT = 500;
const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toOffline(ctx: ServerContext, r: justifications.OfflineGrantRow): OfflineBreakGlassReview {
  const d = r.detail ?? {};
  const deviceId = r.j_device_id ?? str(d.deviceId) ?? '';
  const seq = Number(r.j_seq ?? d.seq ?? 0);
  return {
    alertId: r.alert_id, deviceId, seq, correlationId: str(d.correlationId) ?? r.j_correlation_id,
    patientId: r.patient_id, userId: r.user_id, reason: str(d.reason) ?? r.j_reason ?? 'unknown', severity: r.severity,
    justification: r.justification_sealed ? openText(ctx.notesKey, r.justification_sealed, deviceJustificationAad(deviceId, seq)) : null,
    justificationReceivedAt: iso(r.received_at), startedAt: str(d.startedAt) ?? iso(r.entry_at), endedAt: str(d.endedAt),
    reviewedAt: iso(r.acknowledged_at), reviewedBy: r.acknowledged_by,
    reviewNote: r.note_sealed && r.alert_id ? openText(ctx.notesKey, r.note_sealed, reviewAad(r.alert_id)) : null,
  };
}

export async function listOfflineGrants(ctx: ServerContext): Promise<OfflineBreakGlassReview[]> {
  const alerted = await justifications.alertedGrants(ctx.db, LIMIT);
  const unalerted = await justifications.unalertedGrants(ctx.db, LIMIT);
  return [...alerted, ...unalerted].map((r) => toOffline(ctx, r));
}
