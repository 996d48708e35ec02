/**
 * visits.*: video visits (docs/telemedicine.md). The dispatcher has checked the session (locked
 * is fine for the LOCKED_CHANNELS: signal, transport, end), the role and, for visits.start, the
 * patient. Here: the IT policy, and that the visit belongs to this session (the service's registry).
 */
import { hasCapability } from '../../../../src-shared/access';
import type { Channel } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import type { ApiContext } from '../context';
import type { HandlerTable } from '../handler';
import { visitView, type Telemedicine } from '../../telemedicine';

type VisitChannel = Extract<Channel, `visits.${string}`>;

export function telemedicineOf(ctx: ApiContext): Telemedicine {
  if (!ctx.telemedicine) throw new EhrError(ErrorCode.OFFLINE, 'Video visits need a sync server; none is configured on this workstation.', { reason: 'NO_SERVER' });
  return ctx.telemedicine;
}

export function requireVideoPolicy(ctx: ApiContext): void {
  if (ctx.policy.videoVisits === false) throw new EhrError(ErrorCode.FORBIDDEN, 'Video visits are turned off on this workstation by IT policy.', { reason: 'POLICY' });
}

const recordingPolicy = (ctx: ApiContext): boolean => ctx.policy.videoVisits !== false && ctx.policy.visitRecording !== false;
const host = (roles: Parameters<typeof hasCapability>[0]) => hasCapability(roles, 'visit:host');

export const visitHandlers: Pick<HandlerTable, VisitChannel> = {
  'visits.start': {
    allow: host,
    patient: 'required',
    async run(ctx, { input, session, actor, correlationId }) {
      requireVideoPolicy(ctx);
      const v = await telemedicineOf(ctx).visits.start(session, actor, input.patientId, correlationId);
      return visitView(v, recordingPolicy(ctx));
    },
  },
  'visits.active': {
    allow: host,
    patient: false,
    run(ctx, { session }) {
      if (!ctx.telemedicine) return [];
      return ctx.telemedicine.visits.active(session).map((v) => visitView(v, recordingPolicy(ctx)));
    },
  },
  'visits.link': {
    allow: host,
    patient: false,
    run(ctx, { input, session, correlationId }) {
      requireVideoPolicy(ctx);
      return telemedicineOf(ctx).visits.link(session, input.visitId, input.minutes, correlationId);
    },
  },
  'visits.revokeLink': {
    allow: host,
    patient: false,
    async run(ctx, { input, session, correlationId }) {
      return { revoked: await telemedicineOf(ctx).visits.revokeLink(session, input.visitId, correlationId) };
    },
  },
  'visits.consent': {
    allow: host,
    patient: false,
    async run(ctx, { input, session, actor, correlationId }) {
      const v = await telemedicineOf(ctx).visits.consent(session, actor, input.visitId, input.recording, input.method, correlationId);
      return visitView(v, recordingPolicy(ctx));
    },
  },
  'visits.signal': {
    allow: host,
    patient: false,
    run(ctx, { input, session }) {
      return { sent: telemedicineOf(ctx).visits.signal(session, input.visitId, input.message) };
    },
  },
  'visits.transport': {
    allow: host,
    patient: false,
    run(ctx, { input, session, actor, correlationId }) {
      const { visitId, ...report } = input;
      return telemedicineOf(ctx).visits.transport(session, actor, visitId, report, correlationId);
    },
  },
  'visits.end': {
    allow: host,
    patient: false,
    async run(ctx, { input, session, correlationId }) {
      return { ended: await telemedicineOf(ctx).visits.end(session, input.visitId, correlationId) };
    },
  },
};
