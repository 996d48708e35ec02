/**
 * Telemedicine channels (docs/telemedicine.md). PLACEHOLDER while the visit core is being built on
 * its branch: every channel refuses with a PHI-free error. Replaced before the feature lands.
 */
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import type { Channel } from '../../../../src-shared/api';
import type { HandlerTable } from '../handler';

type VisitChannel = Extract<Channel, `visits.${string}` | `recordings.${string}`>;
const notYet = () => {
  throw new EhrError(ErrorCode.FORBIDDEN, 'Video visits are not available on this workstation.');
};
const refuse = { allow: () => false, patient: false as const, run: notYet };
export const visitHandlers: Pick<HandlerTable, VisitChannel> = {
  'visits.start': refuse,
  'visits.active': refuse,
  'visits.link': refuse,
  'visits.revokeLink': refuse,
  'visits.consent': refuse,
  'visits.signal': refuse,
  'visits.transport': refuse,
  'visits.end': refuse,
  'recordings.start': refuse,
  'recordings.chunk': refuse,
  'recordings.finish': refuse,
  'recordings.list': refuse,
  'recordings.read': refuse,
  'recordings.delete': refuse,
};
