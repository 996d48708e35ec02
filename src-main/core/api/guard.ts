/** The checks every guarded call goes through, shared by the dispatcher and by handlers. */
import { isAccessible, patientAccess, type PatientAccess } from '../../../src-shared/access';
import type { AuditActor } from '../audit';
import type { UserSession } from '../session';
import type { ApiContext } from './context';
import { forbiddenPatient } from './errors';

export function actorOf(session: UserSession, correlationId: string): AuditActor {
  return { userId: session.user.userId, role: session.user.roles.join(','), correlationId };
}

/** Why the user may see this patient now (care team, grant, an unexpired break-glass) or not. */
export function accessTo(ctx: ApiContext, session: UserSession, patientId: string): PatientAccess {
  const snapshot = session.careTeam;
  const access = patientAccess(snapshot, patientId, ctx.sessions.activeBreakGlass(session, patientId) !== null);
  if (access !== 'none') return access;
  // The vault's own restricted flag (set by sync) counts as much as the /v1/me snapshot.
  return ctx.vault.patients.getById(patientId)?.restricted ? 'restricted' : 'none';
}

/** The id when it names a patient in the vault; null for anything else (never echoed, never audited). */
export function knownPatientId(ctx: ApiContext, id: string | null | undefined): string | null {
  return id && ctx.vault.patients.getById(id) ? id : null;
}

/** Throws FORBIDDEN (and records the refusal) unless the patient is accessible. */
export function ensurePatientAccess(ctx: ApiContext, session: UserSession, actor: AuditActor, patientId: string): PatientAccess {
  const access = accessTo(ctx, session, patientId);
  if (!isAccessible(access)) {
    const known = knownPatientId(ctx, patientId);
    ctx.audit.record(actor, { type: 'access-denied', outcome: 'denied', patientId: known, reasonCode: 'FORBIDDEN' });
    throw forbiddenPatient(known);
  }
  return access;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The patient id in raw (not yet validated) input, only when it is a well-formed id. */
export function rawPatientId(raw: unknown): string | null {
  if (!raw || typeof raw !== 'object') return null;
  const id = (raw as { patientId?: unknown }).patientId;
  return typeof id === 'string' && ID.test(id) ? id : null;
}
