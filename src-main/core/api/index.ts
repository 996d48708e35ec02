export { createApi, MAX_INPUT_BYTES, type Api } from './dispatcher';
export type { ApiContext, SyncPort } from './context';
export { handlers } from './handlers';
export { toApiError } from './errors';
export { syncPortFromEngine, type EngineSyncPort } from './sync-port';
export { actorOf } from './guard';
