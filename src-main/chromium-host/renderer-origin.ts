/**
 * Serves the production renderer build (dist/renderer) to a Chromium browser context without any
 * network port: every request the page makes is intercepted over the DevTools pipe (Playwright's
 * context.route) and answered by the Electron shell's own app:// handler, so the bytes, the refusals
 * (path tricks, dotfiles, other methods) and the headers — the same Content-Security-Policy — are
 * exactly the product's. Every other request is aborted, like the shell's webRequest filter.
 *
 * The origin is https on the reserved `.invalid` name (RFC 6761): a secure context like app://ehr,
 * and a name that can never resolve, so nothing reaches the network even if a route were missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Route } from 'playwright-core';
import { createAppProtocolHandler } from '../electron/app-protocol';
import { APP_ORIGIN } from '../electron/app-url';
import { HostError } from './host-error';

export const DEV_HOST_ORIGIN = 'https://ehr.invalid';
export const DEV_HOST_ENTRY_URL = `${DEV_HOST_ORIGIN}/index.html`;
export const RENDERER_BUILD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/renderer');

/** The app:// URL a request to the development origin stands for, or null when it is not ours. */
export function toAppUrl(url: string): string | null {
  if (!url.startsWith(`${DEV_HOST_ORIGIN}/`)) return null;
  return APP_ORIGIN + url.slice(DEV_HOST_ORIGIN.length);
}

/** Routes every request of `context`: the renderer's files from `rootDir`, everything else aborted. */
export async function serveRendererBuild(context: BrowserContext, rootDir: string = RENDERER_BUILD_DIR): Promise<void> {
  if (!existsSync(path.join(rootDir, 'index.html'))) {
    throw new HostError(`no renderer build in ${path.relative(process.cwd(), rootDir) || rootDir}: run \`npm run build:renderer\` (npm start and npm test do).`);
  }
  const handler = createAppProtocolHandler({ rootDir });
  await context.route('**/*', async (route: Route) => {
    const request = route.request();
    const appUrl = toAppUrl(request.url());
    if (!appUrl) return route.abort('blockedbyclient');
    const response = await handler(new Request(appUrl, { method: request.method() }));
    return route.fulfill({
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: Buffer.from(await response.arrayBuffer()),
    });
  });
}
