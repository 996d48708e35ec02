/**
 * recordings.*: sealed visit recordings (docs/telemedicine.md). chunk and finish run while the
 * session is locked (they only append sealed bytes); list and read open PHI and need the chart's
 * own access: a recording is read only by someone who may read the patient's chart.
 */
import { hasCapability, rolesMayEver } from '../../../../src-shared/access';
import type { Channel } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import type { HandlerTable } from '../handler';
import { ensurePatientAccess } from '../guard';
import { requireVideoPolicy, telemedicineOf } from './visits';

type RecordingChannel = Extract<Channel, `recordings.${string}`>;

const readsMedia = (roles: Parameters<typeof rolesMayEver>[0]) => rolesMayEver(roles, 'r', ['Media']);

export const recordingHandlers: Pick<HandlerTable, RecordingChannel> = {
  'recordings.start': {
    allow: (roles) => hasCapability(roles, 'visit:host'),
    patient: false,
    run(ctx, { input, session, actor, correlationId }) {
      requireVideoPolicy(ctx);
      if (ctx.policy.visitRecording === false) throw new EhrError(ErrorCode.FORBIDDEN, 'Recording visits is turned off on this workstation by IT policy.', { reason: 'POLICY' });
      return telemedicineOf(ctx).recordings.start(session, actor, input.visitId, input.mimeType, correlationId);
    },
  },
  'recordings.chunk': {
    allow: (roles) => hasCapability(roles, 'visit:host'),
    patient: false,
    async run(ctx, { input, session }) {
      return { stored: await telemedicineOf(ctx).recordings.chunk(session, input.recordingId, input.seq, input.data) };
    },
  },
  'recordings.finish': {
    allow: (roles) => hasCapability(roles, 'visit:host'),
    patient: false,
    run(ctx, { input, session, correlationId }) {
      return telemedicineOf(ctx).recordings.finish(session, input.recordingId, correlationId);
    },
  },
  'recordings.list': {
    allow: readsMedia,
    patient: 'required',
    run(ctx, { input, session, actor, correlationId }) {
      return telemedicineOf(ctx).recordings.list(session, actor, input.patientId, correlationId);
    },
  },
  'recordings.read': {
    allow: readsMedia,
    patient: false,
    run(ctx, { input, session, actor, correlationId }) {
      return telemedicineOf(ctx).recordings.read(session, actor, input, (patientId) => {
        ensurePatientAccess(ctx, session, actor, patientId);
      }, correlationId);
    },
  },
  'recordings.delete': {
    allow: (roles) => hasCapability(roles, 'recording:delete'),
    patient: false,
    run(ctx, { input, session, actor, correlationId }) {
      return telemedicineOf(ctx).recordings.remove(session, actor, input.recordingId, input.reason, correlationId);
    },
  },
};
