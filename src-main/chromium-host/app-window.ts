/**
 * The development host's window: Debian's Chromium in app mode (no tabs, no address bar), driven
 * over the DevTools pipe (Playwright launches it with --remote-debugging-pipe: no debugging port),
 * showing the renderer build bridged to the real core (bridge-page.ts) with the shell's CSP
 * (renderer-origin.ts).
 *
 * Like the Electron shell's in-memory session, the browser profile is a fresh private folder that is
 * deleted when the window closes: nothing the page held outlives it on disk.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { openBridgedPage, type BridgedPage, type CorePort } from './bridge-page';
import { HostError } from './host-error';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
export const DEV_HOST_TITLE = 'Clinic EHR — development host (Chromium; Electron is the product shell)';

/**
 * Flags shared with the e2e configuration: as root Chromium needs --no-sandbox; the rest stop the
 * background calls (updates, sync, field trials) that have no business leaving a clinic machine.
 */
export function chromiumArgs(isRoot: boolean): string[] {
  return [
    ...(isRoot ? ['--no-sandbox'] : []),
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--disable-quic', '--disable-features=Translate,MediaRouter', '--password-store=basic',
  ];
}

export interface AppWindow extends BridgedPage {
  context: BrowserContext;
  /** Resolves when the user closed the window (or Chromium went away). */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function openAppWindow(o: { chromiumPath: string; display: string; core: CorePort; env?: NodeJS.ProcessEnv }): Promise<AppWindow> {
  if (!existsSync(o.chromiumPath)) {
    throw new HostError(`no Chromium at ${o.chromiumPath}: install it (apt-get install chromium; npm run setup does) or set CHROMIUM_PATH.`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'ehr-dev-host-profile-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: o.chromiumPath,
      headless: false,
      viewport: null,
      acceptDownloads: false,
      // The host stops Chromium itself, after the core has flushed (main.ts): Playwright must not
      // kill it on the first Ctrl+C.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      // The window opens on a blank page; the bridge and routes are in place before the renderer loads.
      args: [...chromiumArgs(process.getuid?.() === 0), '--app=data:text/html,', '--window-size=1280,860'],
      env: { ...(o.env ?? process.env), DISPLAY: o.display },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    const why = e instanceof Error ? e.message.split('\n')[0] : 'unknown error';
    throw new HostError(`Chromium (${o.chromiumPath}) could not start: ${why}`);
  }
  const closed = new Promise<void>((resolve) => context.once('close', () => resolve()));
  const page = context.pages()[0] ?? (await context.newPage());
  const bridged = await openBridgedPage(context, o.core, { page, title: DEV_HOST_TITLE });
  // Closing the window (the app's only page) ends the host, as closing Electron's window quits it.
  page.once('close', () => void context.close().catch(() => undefined));
  return {
    ...bridged,
    context,
    closed,
    async close() {
      bridged.detach();
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
