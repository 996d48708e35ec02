/**
 * Puts a renderer page in front of a main-process core the way Electron's preload does, over the
 * DevTools pipe Playwright holds to Chromium (no network port carries PHI):
 *
 * - `exposeBinding('__ehrInvoke')`: one function; a call from the page runs
 *   `core.invoke(channel, input)` in this (Node) process.
 * - an init script defines `window.ehr = { invoke, on }`, frozen, with exactly the preload's shape
 *   (src-shared/api/bridge.ts). invoke never throws; it resolves the ApiResult.
 * - events the core emits are pushed into the page, to the listeners the renderer registered with
 *   `window.ehr.on`.
 *
 * The development host (main.ts) and the e2e fixture (test/e2e/workstation.ts) both use this, so
 * what the tests drive is what `npm start` runs where Electron's binary is missing.
 */
import { performance } from 'node:perf_hooks';
import type { BrowserContext, Page } from 'playwright-core';
import type { ApiResult } from '../../src-shared/api/bridge';
import type { EhrEvent } from '../../src-shared/api/events';
import { mediaGrantFollowing } from './media-permission';
import { DEV_HOST_ENTRY_URL, DEV_HOST_ORIGIN, RENDERER_BUILD_DIR, serveRendererBuild } from './renderer-origin';

/** What the bridge needs from "main": the workstation core's public face (invoke + onEvent). */
export interface CorePort {
  invoke(channel: string, input: unknown): Promise<ApiResult<unknown>>;
  onEvent(listener: (event: EhrEvent) => void): () => void;
  /** Camera and microphone may be used now (an open visit); absent: never (media-permission.ts). */
  mediaCaptureAllowed?(): boolean;
}

/**
 * Runs in the page before any of its scripts. Plain JavaScript source, not a function: a function
 * would be serialised from transpiled code, which under tsx carries helpers (`__name`) that do not
 * exist in the page.
 */
const INSTALL_BRIDGE = `(() => {
  const listeners = new Map();
  const transportLog = [];
  const invokeBinding = window.__ehrInvoke;
  const bridge = Object.freeze({
    // JSON text across the binding: Playwright's own value serialiser takes seconds on a chart
    // of thousands of records, where Electron's structured clone takes milliseconds.
    // Each call also logs its transport time (round trip minus the core's own time) in
    // __ehrTransportLog, so the UI benchmark can tell the bridge's cost from the renderer's.
    invoke: (channel, input) => {
      const t0 = performance.now();
      return invokeBinding(channel, JSON.stringify(input === undefined ? null : input)).then((text) => {
        const { result, coreMs } = JSON.parse(text);
        transportLog.push({ channel, ms: performance.now() - t0 - coreMs });
        return result;
      });
    },
    on: (event, listener) => {
      let set = listeners.get(event);
      if (!set) { set = new Set(); listeners.set(event, set); }
      set.add(listener);
      return () => { set.delete(listener); };
    },
  });
  Object.defineProperty(window, 'ehr', { value: bridge, enumerable: false, configurable: false, writable: false });
  Object.defineProperty(window, '__ehrTransportLog', { value: transportLog, enumerable: false });
  // The host's way in for events (Electron's is ipcRenderer.on inside the preload).
  Object.defineProperty(window, '__ehrDispatch', {
    value: (event, payload) => { const set = listeners.get(event); if (set) for (const l of set) l(payload); },
    enumerable: false,
  });
})();`;

/**
 * Pins the page title, as the Electron shell does (security.ts WINDOW_TITLE): a title the page set
 * could name a patient in the task bar and window switcher. Here it also says which host this is.
 */
const pinTitle = (title: string): string => `(() => {
  const fixed = ${JSON.stringify(title)};
  Object.defineProperty(Document.prototype, 'title', { get: () => fixed, set: () => {}, configurable: false });
  const apply = () => { for (const t of document.querySelectorAll('title')) if (t.textContent !== fixed) t.textContent = fixed; };
  new MutationObserver(apply).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

export interface BridgedPage {
  page: Page;
  /** Resolves when every event emitted so far has been delivered to the page. */
  eventsDelivered(): Promise<void>;
  detach(): void;
}

export interface BridgeOptions {
  /** Load this page instead of the routed renderer build (a test's own static server). */
  url?: string;
  /** The renderer build to serve (default dist/renderer). */
  rendererDir?: string;
  /** Pin the window title to this text (the development host does). */
  title?: string;
  /** Use this page of the context (an app window's first page) instead of opening a new one. */
  page?: Page;
}

export async function openBridgedPage(context: BrowserContext, core: CorePort, opts: BridgeOptions = {}): Promise<BridgedPage> {
  if (!opts.url) await serveRendererBuild(context, opts.rendererDir ?? RENDERER_BUILD_DIR);
  const page = opts.page ?? (await context.newPage());
  const captureAllowed = core.mediaCaptureAllowed?.bind(core);
  const media = captureAllowed ? mediaGrantFollowing(context, opts.url ? new URL(opts.url).origin : DEV_HOST_ORIGIN, captureAllowed) : null;
  await page.exposeBinding('__ehrInvoke', async (_source, channel: string, inputJson: string) => {
    const t0 = performance.now();
    let result: unknown;
    try {
      result = await core.invoke(channel, JSON.parse(inputJson));
    } catch {
      // The core's invoke should never throw; if it does, answer like the preload would, PHI-free.
      result = { ok: false, error: { code: 'INTERNAL', message: 'Internal error in the workstation core.' } };
    }
    await media?.sync();
    return JSON.stringify({ result, coreMs: performance.now() - t0 });
  });
  await page.addInitScript({ content: INSTALL_BRIDGE });
  if (opts.title) await page.addInitScript({ content: pinTitle(opts.title) });
  let chain: Promise<unknown> = Promise.resolve();
  const off = core.onEvent((e) => {
    chain = chain
      .then(() => media?.sync())
      .then(() => page.evaluate(([name, payload]) => {
        (globalThis as unknown as { __ehrDispatch?: (n: string, p: unknown) => void }).__ehrDispatch?.(name, payload);
      }, [e.event, e.payload] as const))
      .catch(() => undefined); // the page may be closing
  });
  await page.goto(opts.url ?? DEV_HOST_ENTRY_URL);
  return { page, eventsDelivered: () => chain.then(() => undefined), detach: off };
}
