/**
 * IPC between the renderer and the core, registered once: one invoke channel ('ehr:invoke') and one
 * event channel ('ehr:event'), both with our own prefix. Every invoke is checked before it reaches
 * the core: the sender must be our window's main frame on app://ehr. A sub-frame, another
 * webContents, or a page that navigated elsewhere gets FORBIDDEN and the core never sees the call.
 *
 * Pure: takes an ipcMain-like object, so tests drive it with a fake and forged senders.
 */
import type { IpcMainInvokeEvent } from 'electron';
import { EhrError, ErrorCode, isEhrError } from '../../src-shared/errors';
import { EVENT_IPC, INVOKE_IPC, isChannel, type ApiResult, type EhrEvent } from '../../src-shared/api';
import { isAppUrl } from './app-url';
import type { ShellCore } from './core-port';

/** What the sender check looks at, taken from an IpcMainInvokeEvent by `senderInfo`. */
export interface SenderInfo {
  webContentsId: number;
  /** The URL of the frame that sent the message; null when the frame is gone. */
  frameUrl: string | null;
  /** True only for the top-level frame (senderFrame.parent === null). */
  isMainFrame: boolean;
}

/**
 * True only for the main frame of one of our windows, showing our app:// origin. `trustedIds` are
 * the webContents ids of the windows main.ts created.
 */
export function isTrustedSender(info: SenderInfo, trustedIds: ReadonlySet<number>): boolean {
  return trustedIds.has(info.webContentsId) && info.isMainFrame && info.frameUrl !== null && isAppUrl(info.frameUrl);
}

/** Reads the sender from a real Electron event; a destroyed frame reads as untrusted. */
export function senderInfo(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): SenderInfo {
  let frameUrl: string | null = null;
  let isMainFrame = false;
  try {
    const frame = event.senderFrame;
    if (frame) {
      frameUrl = frame.url;
      isMainFrame = frame.parent === null;
    }
  } catch {
    // Accessing a frame that navigated away or was destroyed throws: treat as untrusted.
  }
  return { webContentsId: event.sender.id, frameUrl, isMainFrame };
}

/** The part of ipcMain we use. */
export interface IpcMainLike<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

const FORBIDDEN_SENDER: ApiResult<never> = {
  ok: false,
  error: { code: ErrorCode.FORBIDDEN, message: 'This request did not come from the Clinic EHR window and was refused.' },
};

/** Any failure as the bridge's error shape: EhrErrors keep code+message, anything else is INTERNAL with no detail. */
export function toApiFailure(e: unknown): ApiResult<never> {
  if (isEhrError(e)) return { ok: false, error: e.toJSON() };
  return {
    ok: false,
    error: { code: ErrorCode.INTERNAL, message: 'Something went wrong in the application. Try again; if it persists, restart the app and tell IT.' },
  };
}

export interface RegisterIpcOptions<E> {
  ipcMain: IpcMainLike<E>;
  core: Pick<ShellCore, 'invoke'>;
  /** The sender check; main.ts passes `(e) => isTrustedSender(senderInfo(e), ids)`. */
  isTrusted: (event: E) => boolean;
  /** Told (with ids only) when a sender is refused, for the security log. */
  onRefused?: (reason: 'sender' | 'channel') => void;
}

/** Registers the one invoke handler; returns the function that removes it. */
export function registerIpc<E>(opts: RegisterIpcOptions<E>): () => void {
  opts.ipcMain.handle(INVOKE_IPC, async (event, channel, input) => {
    if (!opts.isTrusted(event)) {
      opts.onRefused?.('sender');
      return FORBIDDEN_SENDER;
    }
    if (!isChannel(channel)) {
      opts.onRefused?.('channel');
      return toApiFailure(new EhrError(ErrorCode.INVALID, 'Unknown request type.'));
    }
    try {
      return await opts.core.invoke(channel, input);
    } catch (e) {
      return toApiFailure(e);
    }
  });
  return () => opts.ipcMain.removeHandler(INVOKE_IPC);
}

/** Forwards core events to the window as ('ehr:event', name, payload); stops when the window is gone. */
export function forwardEvents(
  core: Pick<ShellCore, 'onEvent'>,
  send: (ipcChannel: string, event: EhrEvent['event'], payload: unknown) => void,
  isAlive: () => boolean,
): () => void {
  return core.onEvent((e) => {
    if (isAlive()) send(EVENT_IPC, e.event, e.payload);
  });
}
