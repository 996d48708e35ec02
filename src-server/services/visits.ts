/**
 * Video visits (docs/telemedicine.md): who may start, link, consent and end one, and what each step
 * leaves in the server audit. The patient-access rule is the chart's (care team or a running
 * break-glass grant, services/access.ts); only the visit's host may act on it afterwards.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hasCapability } from '../../src-shared/access';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { Visit, VisitLink } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Principal } from './tokens';
import { canSeePatient } from './access';
import { writeAudit } from './server-audit';
import type { EndReason } from './signalling';
import * as visits from '../store/visits';

export const linkTokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export function toVisit(v: visits.VisitRow): Visit {
  return {
    visitId: v.id,
    patientId: v.patient_id,
    hostUserId: v.host_user_id,
    status: v.status,
    recordingConsent: v.recording_consent,
    createdAt: new Date(v.created_at).toISOString(),
    endedAt: v.ended_at ? new Date(v.ended_at).toISOString() : null,
  };
}

const notFound = () => new EhrError(ErrorCode.NOT_FOUND, 'No such visit.');

/** A visit the principal hosts: anyone else gets NOT_FOUND (a visit id tells nothing about who hosts it). */
export async function hostedVisit(ctx: ServerContext, who: Principal, visitId: string, opts: { open: boolean }): Promise<visits.VisitRow> {
  const v = await visits.byId(ctx.db, visitId);
  if (!v || v.host_user_id !== who.userId) throw notFound();
  if (opts.open && v.status !== 'open') throw new EhrError(ErrorCode.CONFLICT, 'The visit has ended.');
  return v;
}

export async function startVisit(ctx: ServerContext, who: Principal, patientId: string, correlationId: string): Promise<Visit> {
  const now = ctx.now();
  const audit = (outcome: 'success' | 'denied', detail: Record<string, string>) =>
    writeAudit(ctx.db, { type: 'visit-start', action: 'E', outcome, severity: outcome === 'denied' ? 'medium' : 'info', userId: who.userId, deviceId: who.deviceId, patientId, correlationId, detail });
  if (!hasCapability(who.roles, 'visit:host')) {
    await audit('denied', { why: 'role' });
    throw new EhrError(ErrorCode.FORBIDDEN, 'Your role does not allow video visits.');
  }
  if (!(await canSeePatient(ctx.db, who.userId, patientId, now))) {
    await audit('denied', { why: 'patient-access' });
    throw new EhrError(ErrorCode.FORBIDDEN, 'You do not have access to this patient.');
  }
  const row = await visits.insert(ctx.db, { id: randomUUID(), patientId, hostUserId: who.userId, hostDeviceId: who.deviceId, at: now });
  await audit('success', { visitId: row.id });
  return toVisit(row);
}

export async function createLink(ctx: ServerContext, who: Principal, visitId: string, minutes: number, correlationId: string): Promise<VisitLink> {
  const v = await hostedVisit(ctx, who, visitId, { open: true });
  const now = ctx.now();
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + minutes * 60_000);
  await ctx.db.tx(async (sql) => {
    await visits.insertLink(sql, { tokenHash: linkTokenHash(token), visitId, at: now, expiresAt });
    await writeAudit(sql, { type: 'visit-link', action: 'C', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId: v.patient_id, correlationId, detail: { visitId, minutes } });
  });
  return { visitId, url: `${ctx.publicUrl.replace(/\/+$/, '')}/visit/${token}`, expiresAt: expiresAt.toISOString() };
}

export async function revokeLinks(ctx: ServerContext, who: Principal, visitId: string, correlationId: string): Promise<void> {
  const v = await hostedVisit(ctx, who, visitId, { open: false });
  const n = await visits.revokeLinks(ctx.db, visitId, ctx.now());
  await writeAudit(ctx.db, { type: 'visit-link-revoke', action: 'E', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId: v.patient_id, correlationId, detail: { visitId, revoked: n } });
}

export async function recordConsent(ctx: ServerContext, who: Principal, visitId: string, recording: boolean, method: string, correlationId: string): Promise<Visit> {
  const v = await hostedVisit(ctx, who, visitId, { open: true });
  const row = await visits.setConsent(ctx.db, visitId, recording);
  if (!row) throw new EhrError(ErrorCode.CONFLICT, 'The visit has ended.');
  await writeAudit(ctx.db, {
    type: 'visit-consent', action: 'E', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId: v.patient_id, correlationId,
    detail: { visitId, recording, method },
  });
  return toVisit(row);
}

/** Ends one visit (idempotent), revokes its links and closes both sockets with the reason. */
export async function endVisit(ctx: ServerContext, visitId: string, reason: EndReason, by: { userId: string; deviceId: string | null; correlationId: string | null }): Promise<visits.VisitRow | null> {
  const row = await ctx.db.tx(async (sql) => {
    const ended = await visits.end(sql, visitId, reason, ctx.now());
    if (ended) {
      await writeAudit(sql, { type: 'visit-end', action: 'E', outcome: 'success', severity: 'info', userId: by.userId, deviceId: by.deviceId, patientId: ended.patient_id, correlationId: by.correlationId, detail: { visitId, reason } });
    }
    return ended;
  });
  ctx.signalling.end(visitId, reason);
  return row;
}

/** Sign-out ends the user's visits hosted from that device; a device revocation ends every visit hosted from it. */
export async function endVisitsOf(ctx: ServerContext, scope: { userId: string | null; deviceId: string | null }, reason: EndReason): Promise<number> {
  const open = await visits.openHostedBy(ctx.db, scope.userId, scope.deviceId);
  for (const v of open) await endVisit(ctx, v.id, reason, { userId: scope.userId ?? v.host_user_id, deviceId: scope.deviceId, correlationId: null });
  return open.length;
}
