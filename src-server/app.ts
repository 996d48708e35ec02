/** Builds the Fastify app: HTTPS (TLS 1.3 only), JSON parser with depth limit, error handling, feature plugins. */
import Fastify, { type FastifyInstance } from 'fastify';
import { LIMITS } from '../src-shared/sync';
import type { ServerContext } from './context';
import type { TlsMaterial } from './tls';
import { installErrorHandling } from './http/errors';
import { installJsonParser } from './http/json-body';
import { authRoutes } from './routes/auth';
import { deviceRoutes } from './routes/devices';
import { syncRoutes } from './routes/sync';
import { keyRoutes } from './routes/keys';
import { auditRoutes } from './routes/audit';
import { breakGlassRoutes } from './routes/break-glass';
import { adminRoutes } from './routes/admin';
import { privacyRoutes } from './routes/privacy';
import { privacyQueueRoutes } from './routes/privacy-queue';
import { healthRoutes } from './routes/health';
import { visitRoutes } from './routes/visits';
import { visitSignallingRoutes } from './routes/visit-signalling';
import { recordingRoutes } from './routes/recordings';
import { patientPageRoutes } from './routes/patient-page';

export async function buildApp(ctx: ServerContext, tls: TlsMaterial): Promise<FastifyInstance> {
  const app = Fastify({
    https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.3' },
    bodyLimit: LIMITS.bodyBytes,
    // Fastify's own logger would log URLs and errors verbatim; ours logs chosen fields only.
    logger: false,
    return503OnClosing: true,
  });
  installJsonParser(app, LIMITS.jsonDepth);
  installErrorHandling(app, ctx.log);
  app.addHook('onResponse', async (req, reply) => {
    ctx.log({ level: 'info', event: 'request', reqId: req.id, method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    // Responses carry keys and envelopes: never cached by an intermediary.
    void reply.header('cache-control', 'no-store');
    return payload;
  });
  for (const plugin of [healthRoutes, authRoutes, deviceRoutes, syncRoutes, keyRoutes, auditRoutes, breakGlassRoutes, adminRoutes, privacyRoutes, privacyQueueRoutes, visitRoutes, visitSignallingRoutes, recordingRoutes, patientPageRoutes]) {
    await app.register(plugin(ctx));
  }
  return app;
}
