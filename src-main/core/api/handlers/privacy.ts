/**
 * privacy.*: the privacy officer's clinic-wide review queue, on the sync server, for the officer
 * signed in here (privacy_officer only: the 'break-glass:review' capability). The server audits its
 * side; each call is also audited here, under the same correlation id: what the officer was shown
 * (one entry per patient in the list, IHE BALP), which episode was opened, what was decided.
 */
import { hasCapability } from '../../../../src-shared/access';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import type { ServerTokens } from '../../auth';
import type { ApiContext } from '../context';
import type { GuardedCall, HandlerTable } from '../handler';

type PrivacyChannels = 'privacy.queue' | 'privacy.episode' | 'privacy.dispose' | 'privacy.export' | 'privacy.suspendUser' | 'privacy.reinstateUser' | 'privacy.recordingAccess';

const officerOnly = (roles: Parameters<typeof hasCapability>[0]): boolean => hasCapability(roles, 'break-glass:review');

/** The port and the officer's server tokens, or a clear refusal (offline sign-in, no server configured). */
function online(ctx: ApiContext, call: GuardedCall<PrivacyChannels>): { port: NonNullable<ApiContext['privacy']>; tokens: ServerTokens } {
  if (!ctx.privacy) throw new EhrError(ErrorCode.OFFLINE, 'The review queue is on the sync server, and this workstation has none configured.');
  const tokens = call.session.serverAuth as ServerTokens | null;
  if (!tokens) throw new EhrError(ErrorCode.OFFLINE, 'The review queue needs the sync server: sign in again while the server is reachable.');
  return { port: ctx.privacy, tokens };
}

const patientRef = (patientId: string | null): string[] => (patientId ? [`Patient/${patientId}`] : []);

export const privacyHandlers: Pick<HandlerTable, PrivacyChannels> = {
  'privacy.queue': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const items = await port.queue(tokens, call.input.open, call.correlationId);
      ctx.audit.searchResults(call.actor, [...new Set(items.map((i) => i.patientId).filter((p): p is string => p !== null))]);
      return items;
    },
  },
  'privacy.episode': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const episode = await port.episode(tokens, call.input.subject, call.input.id, call.correlationId);
      ctx.audit.record(call.actor, { type: 'read', patientId: episode.item.patientId, resourceRefs: patientRef(episode.item.patientId), reasonCode: call.input.subject });
      return episode;
    },
  },
  'privacy.dispose': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const { subject, id, disposition, note } = call.input;
      const item = await port.dispose(tokens, { subject, id, disposition, note }, call.correlationId);
      ctx.audit.record(call.actor, { type: 'privacy-review', patientId: item.patientId, resourceRefs: patientRef(item.patientId), reasonCode: disposition });
      return item;
    },
  },
  'privacy.export': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const bundle = await port.exportEpisode(tokens, call.input.subject, call.input.id, call.correlationId);
      ctx.audit.record(call.actor, { type: 'export', reasonCode: call.input.subject });
      return bundle;
    },
  },
  'privacy.suspendUser': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const out = await port.setAccount(tokens, call.input.userId, 'suspend', call.input.note, call.correlationId);
      ctx.audit.record(call.actor, { type: 'privacy-review', reasonCode: 'suspend' });
      return out;
    },
  },
  'privacy.reinstateUser': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const out = await port.setAccount(tokens, call.input.userId, 'reinstate', call.input.note, call.correlationId);
      ctx.audit.record(call.actor, { type: 'privacy-review', reasonCode: 'reinstate' });
      return out;
    },
  },
  'privacy.recordingAccess': {
    allow: officerOnly,
    patient: false,
    async run(ctx, call) {
      const { port, tokens } = online(ctx, call);
      const { patientId, recordingId, limit } = call.input;
      const events = await port.recordingAccess(tokens, { patientId, recordingId, limit }, call.correlationId);
      // What the officer was shown: one search entry per patient listed (IHE BALP), like the queue.
      ctx.audit.searchResults(call.actor, [...new Set(events.map((e) => e.patientId))]);
      return events;
    },
  },
};
