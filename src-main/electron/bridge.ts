/**
 * The object the preload exposes as `window.ehr` (src-shared/api/bridge.ts `EhrBridge`), built from an
 * ipcRenderer-like object so tests can check it without Electron. Only our two channels are used;
 * listeners receive the payload alone, never Electron's event object (which would hand the page
 * `sender`, i.e. ipcRenderer itself). Imports only type-free constants: the preload bundle stays small.
 */
import { EVENT_IPC, INVOKE_IPC, type EhrBridge } from '../../src-shared/api/bridge';
import { EVENT_NAMES, type EventName } from '../../src-shared/api/events';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(EVENT_NAMES);

export function createBridge(ipc: IpcRendererLike): EhrBridge {
  const bridge: EhrBridge = {
    invoke: ((channel: string, input: unknown) => ipc.invoke(INVOKE_IPC, channel, input)) as EhrBridge['invoke'],
    on: ((event: EventName, listener: (payload: unknown) => void) => {
      if (!KNOWN_EVENTS.has(event) || typeof listener !== 'function') {
        throw new TypeError('window.ehr.on: unknown event or listener is not a function');
      }
      const wrapped = (_e: unknown, name: unknown, payload: unknown) => {
        if (name === event) listener(payload);
      };
      ipc.on(EVENT_IPC, wrapped);
      return () => {
        ipc.removeListener(EVENT_IPC, wrapped);
      };
    }) as EhrBridge['on'],
  };
  return Object.freeze(bridge);
}
