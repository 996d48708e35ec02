/**
 * Telemedicine in the main process (docs/telemedicine.md): video visits and their recordings for
 * the user sessions of this workstation. Plain Node; the API handlers (api/handlers/visits.ts,
 * recordings.ts) are its only callers besides the workstation's lifecycle hooks.
 */
import type { TelemedicineDeps } from './context';
import { createRecordings } from './recordings';
import { VisitRegistry } from './visit-registry';
import { createVisits } from './visits';

export function createTelemedicine(deps: TelemedicineDeps) {
  const state = { ...deps, registry: new VisitRegistry() };
  return { visits: createVisits(state), recordings: createRecordings(state), registry: state.registry };
}
export type Telemedicine = ReturnType<typeof createTelemedicine>;

export type { TelemedicineDeps, TelemedicineKeys } from './context';
export { pendingChunks } from './pending-chunks';
export { pinnedSignalConnector, type SignalConnector, type SignalSocket, type SignalHandlers } from './signal-socket';
export { visitServerFromClient, type VisitServer } from './visit-server';
export { viewOf as visitView, type EndReason } from './visits';
