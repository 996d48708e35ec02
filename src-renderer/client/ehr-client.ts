/**
 * The renderer's only door to the main process: a thin typed client over `window.ehr` (the
 * preload's bridge, or the e2e fixture's identical one). Components and slices call this, never
 * window.ehr, so there is one place that turns `{ ok: false, error }` into an exception with a
 * typed code. Unit tests pass a client over a bridge of their own in the AppContext
 * (`createEhrClient(bridge)`); the e2e tests and the UI benchmark inject `window.ehr`.
 */
import type { Channel, ChannelInput, ChannelOutput } from '../../src-shared/api/channels';
import type { EhrBridge } from '../../src-shared/api/bridge';
import type { EventName, EventPayloads } from '../../src-shared/api/events';
import type { ErrorCode } from '../../src-shared/errors';

/** A failed call. The message comes from main and is PHI-free by contract; we add nothing to it. */
export class EhrCallError extends Error {
  override readonly name = 'EhrCallError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly channel: Channel,
  ) {
    super(message);
  }
}

export interface EhrClient {
  call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
}

export function createEhrClient(bridge: EhrBridge): EhrClient {
  return {
    async call(channel, input) {
      const result = await bridge.invoke(channel, input);
      if (result.ok) return result.value;
      throw new EhrCallError(result.error.code, result.error.message, channel);
    },
    on: (event, listener) => bridge.on(event, listener),
  };
}

declare global {
  interface Window {
    /** Exposed by the preload (Electron) or by test/e2e/workstation.ts (Playwright). */
    readonly ehr?: EhrBridge;
  }
}

let current: EhrClient | null = null;

/** The app's client, bound to window.ehr on first use. */
export function ehr(): EhrClient {
  if (current) return current;
  const bridge = typeof window === 'undefined' ? undefined : window.ehr;
  if (!bridge) throw new Error('window.ehr is missing: the renderer must run under the preload or the e2e fixture');
  current = createEhrClient(bridge);
  return current;
}

/** The error's code, or INTERNAL for anything that is not a failed call. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof EhrCallError ? e.code : 'INTERNAL';
}
