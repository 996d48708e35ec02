/**
 * Typed client of the sync server's wire protocol (src-shared/sync), over HTTPS pinned to the
 * certificate fingerprint from IT policy (pinned-https.ts).
 *
 * It holds the session's tokens: authenticated calls send the bearer access token and, when the
 * server answers 401, refresh once (the refresh token is single-use and rotates) and retry. Every
 * PHI or key route gets an `x-audit-correlation-id` so the server's audit ties to the client's.
 * Every answer is validated with the protocol's zod schema before anyone uses it.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { API_PREFIX, CORRELATION_HEADER } from '../../../src-shared/sync/common';
import {
  MeResponseSchema, OkResponseSchema, TokenResponseSchema,
  type LoginRequest, type MeResponse, type TokenResponse,
} from '../../../src-shared/sync/auth';
import { BreakGlassResponseSchema, type BreakGlassRequest, type BreakGlassResponse } from '../../../src-shared/sync/break-glass';
import { OfflineJustificationResponseSchema, type OfflineJustificationRequest, type OfflineJustificationResponse } from '../../../src-shared/sync/break-glass';
import { EnrollResponseSchema, type Device, type EnrollRequest } from '../../../src-shared/sync/devices';
import { UnwrapKeyResponseSchema, UnwrapKeysBatchResponseSchema, WrapKeyResponseSchema, type UnwrapKeyRequest, type UnwrapKeyResponse, type UnwrapKeysBatchRequest, type UnwrapKeysBatchResponse, type WrapKeyRequest, type WrapKeyResponse } from '../../../src-shared/sync/keys';
import { PullResponseSchema, PushResponseSchema, type PullQuery, type PullResponse, type PushRequest, type PushResponse } from '../../../src-shared/sync/sync';
import { AuditIngestResponseSchema, type AuditIngestRequest, type AuditIngestResponse } from '../../../src-shared/sync/audit';
import { PinnedAgent } from './pinned-https';
import { isDeviceRevoked } from './device-revoked';
import { errorFromResponse, requestJson, type JsonRequest } from './http-json';

export interface ServerClientOptions {
  /** https URL of the sync server (policy.serverUrl). */
  serverUrl: string;
  /** SHA-256 fingerprint of its certificate (policy.serverCertFingerprint). */
  fingerprint: string;
  /** This workstation's enrolled device id (sent on login/refresh). */
  deviceId: string;
  timeoutMs?: number;
}

export interface CallOptions {
  correlationId?: string;
  signal?: AbortSignal;
}

export interface ServerClient {
  readonly deviceId: string;
  // --- session -------------------------------------------------------------------------------
  login(req: Omit<LoginRequest, 'deviceId'>): Promise<TokenResponse>;
  refresh(): Promise<TokenResponse>;
  logout(): Promise<void>;
  /**
   * Adopt tokens obtained elsewhere (or null to forget them). Pass `user` when switching between
   * users on one workstation, so conflicts and resolutions are attributed to the right person.
   */
  setTokens(tokens: (Pick<TokenResponse, 'accessToken' | 'refreshToken'> & { user?: TokenResponse['user'] }) | null): void;
  hasSession(): boolean;
  /** The signed-in user (from the last login or refresh), or null. */
  currentUser(): TokenResponse['user'] | null;
  /**
   * Called when the server says this workstation's enrollment is revoked (a 401 naming this device,
   * or a refused login for an unenrolled device) — the sync engine drops every data key on it.
   */
  onDeviceRevoked(cb: () => void): () => void;
  /** Called whenever tokens change (login, refresh, logout), e.g. to keep them in memory of the session core. */
  onTokens(cb: (tokens: TokenResponse | null) => void): () => void;
  me(opts?: CallOptions): Promise<MeResponse>;
  breakGlass(req: BreakGlassRequest, opts?: CallOptions): Promise<BreakGlassResponse>;
  /** The justification of a break-glass granted offline, once its audit entry is ingested (sealed at rest by the server). */
  breakGlassJustification(req: OfflineJustificationRequest, opts?: CallOptions): Promise<OfflineJustificationResponse>;
  // --- device --------------------------------------------------------------------------------
  enroll(req: Omit<EnrollRequest, 'deviceId'>): Promise<Device>;
  // --- sync ----------------------------------------------------------------------------------
  push(req: PushRequest, opts?: CallOptions): Promise<PushResponse>;
  pull(query: PullQuery, opts?: CallOptions): Promise<PullResponse>;
  wrapKey(req: WrapKeyRequest, opts?: CallOptions): Promise<WrapKeyResponse>;
  unwrapKeys(req: UnwrapKeyRequest, opts?: CallOptions): Promise<UnwrapKeyResponse>;
  /** Many patients' keys in one round trip (initial sync); refusals are listed, not thrown. */
  unwrapKeysBatch(req: UnwrapKeysBatchRequest, opts?: CallOptions): Promise<UnwrapKeysBatchResponse>;
  ingestAudit(req: AuditIngestRequest, opts?: CallOptions): Promise<AuditIngestResponse>;
  /** Raw JSON call for routes not wrapped above (admin/test helpers). Still pinned and validated by caller. */
  call(req: JsonRequest & { auth?: boolean }): Promise<unknown>;
  close(): void;
}

export function createServerClient(options: ServerClientOptions): ServerClient {
  const base = new URL(options.serverUrl);
  if (base.protocol !== 'https:') throw new EhrError(ErrorCode.INVALID, 'The sync server URL must use https.');
  const agent = new PinnedAgent(options.fingerprint);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let tokens: Pick<TokenResponse, 'accessToken' | 'refreshToken'> | null = null;
  let user: TokenResponse['user'] | null = null;
  let refreshing: Promise<TokenResponse> | null = null;
  const listeners = new Set<(t: TokenResponse | null) => void>();
  const revokedListeners = new Set<() => void>();

  const emitTokens = (t: TokenResponse | null): void => {
    user = t?.user ?? null;
    for (const cb of listeners) cb(t);
  };

  async function raw(req: JsonRequest, auth: boolean): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { ...req.headers };
    if (auth) {
      if (!tokens) throw new EhrError(ErrorCode.NO_SESSION, 'Not signed in to the sync server.');
      headers.authorization = `Bearer ${tokens.accessToken}`;
    }
    return requestJson(base, agent, { timeoutMs, ...req, headers });
  }

  /** One call, watching for the server saying this device is revoked. */
  async function send<S extends z.ZodType>(schema: S, req: JsonRequest, auth: boolean): Promise<z.infer<S>> {
    try {
      return await sendOnce(schema, req, auth);
    } catch (e) {
      if (isDeviceRevoked(e, options.deviceId)) for (const cb of revokedListeners) cb();
      throw e;
    }
  }

  /** On 401 with a refresh token, refresh once and retry (never loops). */
  async function sendOnce<S extends z.ZodType>(schema: S, req: JsonRequest, auth: boolean): Promise<z.infer<S>> {
    let res = await raw(req, auth);
    if (auth && res.status === 401 && tokens) {
      const refused = errorFromResponse(res, new URL(req.path, base).pathname);
      // A 401 naming this device means the enrollment was revoked: refreshing cannot help.
      if (refused.detail?.deviceId === options.deviceId) throw refused;
      await refresh();
      res = await raw(req, auth);
    }
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(res, new URL(req.path, base).pathname);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw new EhrError(ErrorCode.INTEGRITY, 'The sync server sent an answer that does not match the protocol.', { path: new URL(req.path, base).pathname });
    }
    return parsed.data;
  }

  const phiHeaders = (opts?: CallOptions): Record<string, string> => ({ [CORRELATION_HEADER]: opts?.correlationId ?? randomUUID() });

  async function refresh(): Promise<TokenResponse> {
    // Concurrent 401s share one refresh: the refresh token is single-use, a second use would revoke the family.
    if (refreshing) return refreshing;
    const current = tokens;
    if (!current) throw new EhrError(ErrorCode.NO_SESSION, 'Not signed in to the sync server.');
    refreshing = (async () => {
      try {
        const t = await send(TokenResponseSchema, { method: 'POST', path: `${API_PREFIX}/auth/refresh`, body: { refreshToken: current.refreshToken, deviceId: options.deviceId } }, false);
        tokens = t;
        emitTokens(t);
        return t;
      } catch (e) {
        if (e instanceof EhrError && (e.code === ErrorCode.UNAUTHENTICATED || e.code === ErrorCode.FORBIDDEN)) {
          tokens = null;
          emitTokens(null);
        }
        throw e;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  return {
    deviceId: options.deviceId,
    async login(req) {
      const t = await send(TokenResponseSchema, { method: 'POST', path: `${API_PREFIX}/auth/login`, body: { ...req, deviceId: options.deviceId } }, false);
      tokens = t;
      emitTokens(t);
      return t;
    },
    refresh,
    async logout() {
      if (!tokens) return;
      try {
        await send(OkResponseSchema, { method: 'POST', path: `${API_PREFIX}/auth/logout`, body: { refreshToken: tokens.refreshToken } }, true);
      } finally {
        tokens = null;
        emitTokens(null);
      }
    },
    setTokens(t) {
      tokens = t ? { accessToken: t.accessToken, refreshToken: t.refreshToken } : null;
      if (!t) user = null;
      else if (t.user) user = t.user;
    },
    hasSession: () => tokens !== null,
    currentUser: () => user,
    onDeviceRevoked(cb) {
      revokedListeners.add(cb);
      return () => revokedListeners.delete(cb);
    },
    onTokens(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    me: (opts) => send(MeResponseSchema, { method: 'GET', path: `${API_PREFIX}/me`, headers: phiHeaders(opts), signal: opts?.signal }, true),
    breakGlass: (req, opts) => send(BreakGlassResponseSchema, { method: 'POST', path: `${API_PREFIX}/break-glass`, body: req, headers: phiHeaders(opts) }, true),
    breakGlassJustification: (req, opts) =>
      send(OfflineJustificationResponseSchema, { method: 'POST', path: `${API_PREFIX}/break-glass/justification`, body: req, headers: phiHeaders(opts) }, true),
    enroll: (req) => send(EnrollResponseSchema, { method: 'POST', path: `${API_PREFIX}/devices/enroll`, body: { ...req, deviceId: options.deviceId } }, false),
    push: (req, opts) => send(PushResponseSchema, { method: 'POST', path: `${API_PREFIX}/sync/push`, body: req, headers: phiHeaders(opts), signal: opts?.signal }, true),
    pull(query, opts) {
      const qs = new URLSearchParams();
      if (query.cursor !== undefined) qs.set('cursor', query.cursor);
      if (query.limit !== undefined) qs.set('limit', String(query.limit));
      if (query.patientId !== undefined) qs.set('patientId', query.patientId);
      return send(PullResponseSchema, { method: 'GET', path: `${API_PREFIX}/sync/pull?${qs.toString()}`, headers: phiHeaders(opts), signal: opts?.signal }, true);
    },
    wrapKey: (req, opts) => send(WrapKeyResponseSchema, { method: 'POST', path: `${API_PREFIX}/keys/wrap`, body: req, headers: phiHeaders(opts) }, true),
    unwrapKeys: (req, opts) => send(UnwrapKeyResponseSchema, { method: 'POST', path: `${API_PREFIX}/keys/unwrap`, body: req, headers: phiHeaders(opts) }, true),
    unwrapKeysBatch: (req, opts) => send(UnwrapKeysBatchResponseSchema, { method: 'POST', path: `${API_PREFIX}/keys/unwrap-batch`, body: req, headers: phiHeaders(opts) }, true),
    ingestAudit: (req, opts) => send(AuditIngestResponseSchema, { method: 'POST', path: `${API_PREFIX}/audit`, body: req, headers: phiHeaders(opts), signal: opts?.signal }, true),
    async call(req) {
      const res = await raw({ ...req, headers: { [CORRELATION_HEADER]: randomUUID(), ...req.headers } }, req.auth ?? false);
      if (res.status < 200 || res.status >= 300) throw errorFromResponse(res, new URL(req.path, base).pathname);
      return res.body;
    },
    close() {
      agent.destroy();
    },
  };
}
