/**
 * The patient's visit page: GET /visit/:token (the built page, src-renderer/patient-visit, from
 * config.patientPageDir) and GET /visit-assets/<file> (its scripts and styles). Viewing the page does
 * not consume the link — joining does (routes/visit-signalling.ts). The page carries no PHI; the
 * media key is in the link's #fragment, which browsers never send to a server.
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCode } from '../../src-shared/errors';
import { VisitTokenSchema } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { linkTokenHash } from '../services/visits';
import * as visits from '../store/visits';

export const PATIENT_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob: mediastream:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DEFAULT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../dist/patient-visit');
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json' };

const GONE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Video visit</title></head>
<body><h1>This visit link can no longer be used</h1><p>It has expired, was already used, or was withdrawn. Please ask the clinic for a new link.</p></body></html>`;

function secureHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', PATIENT_PAGE_CSP)
    .header('referrer-policy', 'no-referrer')
    .header('permissions-policy', 'camera=(self), microphone=(self), geolocation=()')
    .header('x-content-type-options', 'nosniff')
    .header('cross-origin-opener-policy', 'same-origin');
}

export function patientPageRoutes(ctx: ServerContext) {
  const dir = ctx.config.patientPageDir ?? DEFAULT_DIR;
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: { token: string } }>('/visit/:token', async (req, reply) => {
      secureHeaders(reply);
      const token = VisitTokenSchema.safeParse(req.params.token);
      const live = token.success && (await visits.visitOfLiveLink(ctx.db, linkTokenHash(token.data), ctx.now()));
      if (!live) return reply.status(410).type('text/html; charset=utf-8').send(GONE_PAGE);
      const index = join(dir, 'index.html');
      if (!existsSync(index)) {
        return reply.status(503).type('application/json').send({ code: ErrorCode.INTERNAL, message: 'The patient visit page is not built on this server (npm run build:renderer).' });
      }
      return reply.type('text/html; charset=utf-8').send(readFileSync(index));
    });
    app.get<{ Params: { file: string } }>('/visit-assets/:file', async (req, reply) => {
      secureHeaders(reply);
      // One plain file name from the build directory: no path separators, no dot files.
      const name = basename(req.params.file);
      const type = TYPES[extname(name)];
      const file = join(dir, name);
      if (name !== req.params.file || name.startsWith('.') || !type || !existsSync(file)) {
        return reply.status(404).type('application/json').send({ code: ErrorCode.NOT_FOUND, message: 'No such file.' });
      }
      return reply.type(type).send(readFileSync(file));
    });
  };
}
