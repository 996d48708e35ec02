/**
 * One JSON request over the pinned agent, mapped to EhrError:
 *  - network unreachable / refused / reset / timeout -> OFFLINE (the engine backs off and retries);
 *  - certificate pin mismatch -> CertificatePinError (never retried silently);
 *  - a non-2xx answer -> the server's own PHI-free { code, message, detail } (validated);
 *  - a 2xx answer that is not valid JSON -> INTEGRITY.
 * Response bodies are never echoed into errors (they could carry PHI in a broken server).
 */
import https from 'node:https';
import { EhrError, ErrorCode, type SafeDetail } from '../../../src-shared/errors';
import { ErrorBodySchema } from '../../../src-shared/sync/common';
import { isCertificatePinError } from './pinned-https';

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with query, e.g. "/v1/sync/pull?cursor=0". */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Aborts the request (e.g. engine stop). */
  signal?: AbortSignal;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_SOCKET_CLOSED']);

export function offlineError(reason: string): EhrError {
  return new EhrError(ErrorCode.OFFLINE, 'The sync server cannot be reached; changes stay queued on this workstation and will be sent when it is back.', { reason });
}

function mapTransportError(err: unknown): EhrError {
  if (isCertificatePinError(err)) return err;
  if (err instanceof EhrError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && NETWORK_CODES.has(code)) return offlineError(code);
  if ((err as Error | undefined)?.name === 'AbortError') return offlineError('ABORTED');
  return offlineError(typeof code === 'string' ? code : 'NETWORK');
}

export function requestJson(baseUrl: URL, agent: https.Agent, req: JsonRequest): Promise<JsonResponse> {
  const url = new URL(req.path, baseUrl);
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise<JsonResponse>((resolve, reject) => {
    const r = https.request(url, { method: req.method, agent, headers, timeout: req.timeoutMs ?? 30_000, signal: req.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(mapTransportError(e)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        if (text.length > 0) {
          try {
            body = JSON.parse(text);
          } catch {
            reject(new EhrError(ErrorCode.INTEGRITY, 'The sync server sent an unreadable answer.', { status: res.statusCode ?? 0, path: url.pathname }));
            return;
          }
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    r.on('timeout', () => r.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    r.on('error', (e) => reject(mapTransportError(e)));
    if (payload) r.end(payload);
    else r.end();
  });
}

/** Turn a non-2xx answer into the EhrError the server described (or a generic one by status). */
export function errorFromResponse(res: JsonResponse, path: string): EhrError {
  const parsed = ErrorBodySchema.safeParse(res.body);
  if (parsed.success) {
    const detail: SafeDetail = { ...(parsed.data.detail ?? {}), status: res.status, path };
    if (res.status >= 500) detail.transient = true;
    return new EhrError(parsed.data.code, parsed.data.message, detail);
  }
  const byStatus: Record<number, ErrorCode> = {
    400: ErrorCode.INVALID, 401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT, 413: ErrorCode.TOO_LARGE, 423: ErrorCode.ACCOUNT_LOCKED, 429: ErrorCode.RATE_LIMITED,
  };
  if (res.status >= 500 || res.status === 0) {
    return new EhrError(ErrorCode.INTERNAL, 'The sync server had a temporary failure; the request will be retried.', { status: res.status, path, transient: true });
  }
  return new EhrError(byStatus[res.status] ?? ErrorCode.INTERNAL, 'The sync server refused the request.', { status: res.status, path });
}

/** Worth retrying later with backoff: the network, a server hiccup, or rate limiting. */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof EhrError)) return false;
  return e.code === ErrorCode.OFFLINE || e.code === ErrorCode.RATE_LIMITED || e.detail?.transient === true;
}
