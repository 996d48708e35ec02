/**
 * The free-text justification of a break-glass granted OFFLINE on a workstation.
 *
 * The grant itself reached the server as a signed `break-glass-start` entry in the device's audit
 * chain (device-break-glass.ts raised the privacy-officer alert at ingest, ids and codes only). The
 * text follows afterwards, through POST /v1/break-glass/justification, and is kept exactly like an
 * online grant's: sealed with the server's notes key (AES-256-GCM, AAD naming the entry), never in
 * plaintext in the database, never logged, never in an error or an audit row.
 *
 * The entry is named by (device, seq), the primary key of the ingested chain. It cannot be spoofed:
 * the device must be the caller's own (the token is bound to it), the entry must already be
 * ingested (signed by that device), and it must be a successful break-glass-start of the caller for
 * the same patient, correlation id and reason. Idempotent per entry: the same text again is
 * `already-stored`; a different one is refused (409) and the first stays.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EhrError, ErrorCode, type SafeDetail } from '../../src-shared/errors';
import type { OfflineJustificationProblem, OfflineJustificationRequest, OfflineJustificationResponse } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { openText, sealText } from '../keys/sealed';
import * as alerts from '../store/alerts';
import * as deviceAudit from '../store/device-audit';
import * as justifications from '../store/device-justifications';
import { deviceJustificationAad } from './note-aads';
import type { Principal } from './tokens';
import { writeAudit } from './server-audit';

const AUDIT_TYPE = 'break-glass-justification';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const sameText = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

export async function storeOfflineJustification(
  ctx: ServerContext,
  principal: Principal,
  body: OfflineJustificationRequest,
  correlationId: string,
): Promise<OfflineJustificationResponse> {
  const ids = { deviceId: body.deviceId, seq: body.seq };
  /** Audits the refusal (ids and codes only), then throws: the text is never echoed. */
  const refuse = async (
    sql: Sql,
    code: ErrorCode,
    problem: OfflineJustificationProblem,
    message: string,
    extra: SafeDetail = {},
  ): Promise<never> => {
    const denied = code === ErrorCode.FORBIDDEN;
    await writeAudit(sql, {
      type: AUDIT_TYPE, action: 'C', outcome: denied ? 'denied' : 'failure', severity: denied ? 'high' : 'medium',
      userId: principal.userId, deviceId: principal.deviceId, patientId: body.patientId, correlationId,
      detail: { problem, entryDeviceId: body.deviceId, seq: body.seq },
    });
    throw new EhrError(code, message, { problem, ...ids, ...extra });
  };

  if (body.deviceId !== principal.deviceId) {
    return refuse(ctx.db, ErrorCode.FORBIDDEN, 'device', 'A justification can only be sent for an audit entry of this workstation.');
  }
  const entry = await deviceAudit.entryAt(ctx.db, body.deviceId, body.seq);
  if (!entry) {
    const last = await deviceAudit.head(ctx.db, body.deviceId);
    return refuse(
      ctx.db, ErrorCode.NOT_FOUND, 'not-ingested',
      'That audit entry has not reached the server yet; send the justification again after the audit chain is pushed.',
      { lastSeq: last?.seq ?? 0, retry: true },
    );
  }
  if (entry.user_id !== principal.userId) {
    return refuse(ctx.db, ErrorCode.FORBIDDEN, 'user', 'A justification can only be sent by the user who broke the glass.');
  }
  if (entry.type !== 'break-glass-start' || entry.outcome !== 'success') {
    return refuse(ctx.db, ErrorCode.INVALID, 'entry', 'That audit entry is not a granted break-glass.');
  }
  if (entry.patient_id !== body.patientId) return refuse(ctx.db, ErrorCode.INVALID, 'patient', 'The patient does not match the audit entry.');
  if (entry.correlation_id !== body.correlationId) return refuse(ctx.db, ErrorCode.INVALID, 'correlation', 'The correlation id does not match the audit entry.');
  if (entry.reason !== body.reason) return refuse(ctx.db, ErrorCode.INVALID, 'reason', 'The reason does not match the audit entry.');

  const aad = deviceJustificationAad(body.deviceId, body.seq);
  const outcome = await ctx.db.tx(async (sql): Promise<OfflineJustificationResponse | 'different-text'> => {
    const alertId = await alerts.breakGlassOfEntry(sql, body.deviceId, body.seq);
    const inserted = await justifications.insertFirst(sql, {
      deviceId: body.deviceId, seq: body.seq, userId: principal.userId, patientId: body.patientId, reason: body.reason,
      correlationId: body.correlationId, justificationSealed: sealText(ctx.notesKey, body.justification, aad), alertId,
    });
    let status: OfflineJustificationResponse['status'] = 'stored';
    if (!inserted) {
      const existing = await justifications.sealedOf(sql, body.deviceId, body.seq);
      if (!existing || !sameText(openText(ctx.notesKey, existing, aad), body.justification)) return 'different-text';
      status = 'already-stored';
    }
    await writeAudit(sql, {
      type: AUDIT_TYPE, action: 'C', outcome: 'success', severity: 'medium',
      userId: principal.userId, deviceId: principal.deviceId, patientId: body.patientId, correlationId,
      detail: { entryDeviceId: body.deviceId, seq: body.seq, reason: body.reason, alertId: alertId ?? 'none', status },
    });
    return { status, alertId };
  });
  // Refused outside the transaction, so its audit row is not rolled back with it.
  if (outcome === 'different-text') {
    return refuse(ctx.db, ErrorCode.CONFLICT, 'different-text', 'A different justification is already stored for this break-glass; the first one is kept.');
  }
  return outcome;
}
