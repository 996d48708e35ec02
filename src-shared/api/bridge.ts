/**
 * The bridge: exactly what the preload exposes as `window.ehr`, and what the e2e fixture injects.
 * invoke never throws across the bridge; failures come back as `{ ok: false, error }` with a typed
 * code and a PHI-free message.
 */
import type { ErrorCode, SafeDetail } from '../errors';
import type { Channel, ChannelInput, ChannelOutput } from './channels';
import type { EventName, EventPayloads } from './events';

export interface ApiError {
  code: ErrorCode;
  message: string;
  detail?: SafeDetail;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface EhrBridge {
  invoke<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ApiResult<ChannelOutput<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
}

/** The one IPC channel name the preload uses for invoke; events arrive on EVENT_IPC. */
export const INVOKE_IPC = 'ehr:invoke';
export const EVENT_IPC = 'ehr:event';
