/** The handler table: one handler per channel of the EhrApi contract (the compiler checks none is missing). */
import type { HandlerTable } from '../handler';
import { auditHandlers } from './audit';
import { authHandlers } from './auth';
import { breakGlassHandlers } from './break-glass';
import { draftHandlers } from './drafts';
import { patientHandlers } from './patients';
import { printExportHandlers } from './print-export';
import { privacyHandlers } from './privacy';
import { recordBatchHandlers } from './record-batch';
import { recordHandlers } from './records';
import { recordingHandlers } from './recordings';
import { syncHandlers } from './sync';
import { userHandlers } from './users';
import { visitHandlers } from './visits';

export const handlers: HandlerTable = {
  ...authHandlers,
  ...patientHandlers,
  ...recordHandlers,
  ...recordBatchHandlers,
  ...draftHandlers,
  ...syncHandlers,
  ...breakGlassHandlers,
  ...auditHandlers,
  ...printExportHandlers,
  ...userHandlers,
  ...privacyHandlers,
  ...visitHandlers,
  ...recordingHandlers,
};
