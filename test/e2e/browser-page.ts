/**
 * Puts a renderer page in front of a main-process core, the way Electron's preload would:
 *
 * - `page.exposeBinding('__ehrInvoke', ...)`: one function; a call from the page runs
 *   `core.invoke(channel, input)` in this (Node) process. In-process (over the DevTools pipe
 *   Playwright already holds): no network port carries PHI.
 * - `page.addInitScript(...)`: defines `window.ehr = { invoke, on }`, frozen, with exactly the
 *   preload's shape (src-shared/api/bridge.ts). invoke never throws; it resolves the ApiResult.
 * - events the core emits are pushed into the page with `page.evaluate`, to the listeners that
 *   the renderer registered with `window.ehr.on`.
 */
import { performance } from 'node:perf_hooks';
import type { BrowserContext, Page } from '@playwright/test';
import type { CorePort } from './core-port';

/**
 * Runs in the page before any of its scripts. Plain JavaScript source, not a function: a function
 * would be serialised from the test's transpiled code, which under tsx carries helpers (`__name`)
 * that do not exist in the page.
 */
const INSTALL_BRIDGE = `(() => {
  const listeners = new Map();
  const transportLog = [];
  const invokeBinding = window.__ehrInvoke;
  const bridge = Object.freeze({
    // JSON text across the binding: Playwright's own value serialiser takes seconds on a chart
    // of thousands of records, where Electron's structured clone takes milliseconds.
    // Each call also logs its transport time (round trip minus the core's own time) in
    // __ehrTransportLog, so the UI benchmark can tell the fixture's cost from the renderer's.
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
  // The fixture's way in for events (Electron's is ipcRenderer.on inside the preload).
  Object.defineProperty(window, '__ehrDispatch', {
    value: (event, payload) => { const set = listeners.get(event); if (set) for (const l of set) l(payload); },
    enumerable: false,
  });
})();`;

export interface BridgedPage {
  page: Page;
  /** Resolves when every event emitted so far has been delivered to the page. */
  eventsDelivered(): Promise<void>;
  detach(): void;
}

export async function openBridgedPage(context: BrowserContext, rendererUrl: string, core: CorePort): Promise<BridgedPage> {
  const page = await context.newPage();
  await page.exposeBinding('__ehrInvoke', async (_source, channel: string, inputJson: string) => {
    const t0 = performance.now();
    let result: unknown;
    try {
      result = await core.invoke(channel, JSON.parse(inputJson));
    } catch {
      // The core's invoke should never throw; if it does, answer like the preload would, PHI-free.
      result = { ok: false, error: { code: 'INTERNAL', message: 'Internal error in the workstation core.' } };
    }
    return JSON.stringify({ result, coreMs: performance.now() - t0 });
  });
  await page.addInitScript({ content: INSTALL_BRIDGE });
  let chain: Promise<unknown> = Promise.resolve();
  const off = core.onEvent((e) => {
    chain = chain
      .then(() => page.evaluate(([name, payload]) => {
        (globalThis as unknown as { __ehrDispatch?: (n: string, p: unknown) => void }).__ehrDispatch?.(name, payload);
      }, [e.event, e.payload] as const))
      .catch(() => undefined); // the page may be closing
  });
  await page.goto(rendererUrl);
  return { page, eventsDelivered: () => chain.then(() => undefined), detach: off };
}
