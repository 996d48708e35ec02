/**
 * The app:// protocol handler: serves the production renderer build (dist/renderer) and nothing
 * else. Pure (takes the root and a file reader), returns a Fetch `Response`, so it is the same code
 * under protocol.handle in Electron and under vitest.
 *
 * Refused: any other host, any path that resolves outside the root (../, %2e%2e, encoded slashes or
 * backslashes, NUL bytes, absolute or drive paths), dotfiles, and any method but GET/HEAD.
 */
import path from 'node:path';
import { readFile as fsReadFile, realpath as fsRealpath } from 'node:fs/promises';
import { APP_HOST, APP_SCHEME } from './app-url';
import { securityHeaders } from './security';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Maps a request URL to a file under `rootDir`, or null when it must be refused. Decodes once, then
 * rejects anything that could climb out rather than trying to clean it up.
 */
export function resolveAppPath(rootDir: string, requestUrl: string): string | null {
  // The URL parser quietly folds `..` and `%2e%2e` segments away; a request that carries them is
  // probing, so refuse it outright rather than serve whatever it folded into. Encoded slashes and
  // backslashes are never in our asset names either.
  if (/(^|\/|%2f|%5c|\\)(\.|%2e){2}(\/|%2f|%5c|\\|$|[?#])/i.test(requestUrl) || /%2f|%5c/i.test(requestUrl)) return null;
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.hostname !== APP_HOST || u.port || u.username || u.password) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null; // malformed %-escape
  }
  if (rel === '' || rel === '/') rel = '/index.html';
  // Backslashes and NUL are never legitimate in our asset names; a drive letter or a second
  // leading slash would make the path absolute.
  if (/[\\\0]/.test(rel) || /^\/[a-zA-Z]:/.test(rel) || rel.startsWith('//')) return null;
  const segments = rel.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  const root = path.resolve(rootDir);
  const full = path.resolve(root, ...segments);
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  return full;
}

export function mimeType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface AppProtocolDeps {
  rootDir: string;
  readFile?: (file: string) => Promise<Uint8Array>;
  /** Resolves symlinks so a link inside dist/renderer cannot point outside it. */
  realpath?: (file: string) => Promise<string>;
}

function refuse(status: number): Response {
  return new Response(null, { status, headers: securityHeaders() });
}

/** The function main.ts passes to protocol.handle('app', ...). */
export function createAppProtocolHandler(deps: AppProtocolDeps): (request: Request) => Promise<Response> {
  const readFile = deps.readFile ?? ((f: string) => fsReadFile(f));
  const realpath = deps.realpath ?? ((f: string) => fsRealpath(f));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
    const file = resolveAppPath(deps.rootDir, request.url);
    if (!file) return refuse(404);
    try {
      const [real, root] = await Promise.all([realpath(file), realpath(path.resolve(deps.rootDir))]);
      if (real !== root && !real.startsWith(root + path.sep)) return refuse(404);
      // A copy on its own ArrayBuffer: what every Fetch typing (Node's and the DOM's) takes as a body.
      const body = Uint8Array.from(await readFile(real));
      const headers = { ...securityHeaders(), 'Content-Type': mimeType(real) };
      return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
    } catch {
      // Missing file or unreadable: a plain 404, never the file system error (it names paths).
      return refuse(404);
    }
  };
}
