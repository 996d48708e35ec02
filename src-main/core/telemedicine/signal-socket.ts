/**
 * The clinician's signalling socket: a `ws` WebSocket from main to
 * wss://<server>/v1/visits/:visitId/signal, bearer token in the Authorization header.
 *
 * Why through a PinnedAgent (pinned-https.ts) and not ws's own TLS options: the agent finishes the
 * TLS handshake, compares the certificate with IT's pin and only then hands the socket to the HTTP
 * upgrade, so the bearer token is never written to an unverified peer. There is no unpinned path.
 * Every message is checked with SignalMessageSchema in both directions; an invalid one from the
 * server is dropped (never echoed: it could carry anything).
 */
import WebSocket from 'ws';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { SignalMessageSchema, VISIT_LIMITS, type SignalMessage } from '../../../src-shared/sync/visits';
import { PinnedAgent } from '../sync/pinned-https';

export interface SignalSocket {
  send(message: SignalMessage): boolean;
  close(): void;
  readonly open: boolean;
}

export interface SignalHandlers {
  onMessage(message: SignalMessage): void;
  /** The socket is gone (server close, network loss, or our close()). */
  onClose(): void;
}

export interface SignalConnector {
  connect(visitId: string, accessToken: string, handlers: SignalHandlers): Promise<SignalSocket>;
}

export function pinnedSignalConnector(opts: { serverUrl: string; fingerprint: string; timeoutMs?: number }): SignalConnector {
  const base = new URL(opts.serverUrl);
  if (base.protocol !== 'https:') throw new EhrError(ErrorCode.INVALID, 'The sync server URL must use https.');
  return {
    connect(visitId, accessToken, handlers) {
      const url = new URL(`/v1/visits/${encodeURIComponent(visitId)}/signal`, base);
      url.protocol = 'wss:';
      // One agent per socket, no keep-alive: an upgraded socket leaves the agent's pool anyway.
      const agent = new PinnedAgent(opts.fingerprint, { keepAlive: false });
      const ws = new WebSocket(url, {
        agent,
        headers: { authorization: `Bearer ${accessToken}` },
        handshakeTimeout: opts.timeoutMs ?? 15_000,
        maxPayload: VISIT_LIMITS.signalBytes,
        perMessageDeflate: false,
      });
      return new Promise<SignalSocket>((resolve, reject) => {
        let opened = false;
        let closed = false;
        const finish = (): void => {
          if (closed) return;
          closed = true;
          agent.destroy();
          if (opened) handlers.onClose();
        };
        const socket: SignalSocket = {
          get open() {
            return opened && !closed && ws.readyState === WebSocket.OPEN;
          },
          send(message) {
            const checked = SignalMessageSchema.safeParse(message);
            if (!checked.success || ws.readyState !== WebSocket.OPEN) return false;
            ws.send(JSON.stringify(checked.data));
            return true;
          },
          close() {
            if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
            finish();
          },
        };
        ws.on('open', () => {
          opened = true;
          resolve(socket);
        });
        ws.on('message', (data, isBinary) => {
          if (isBinary) return;
          let parsed: unknown;
          try {
            parsed = JSON.parse(data.toString());
          } catch {
            return;
          }
          const msg = SignalMessageSchema.safeParse(parsed);
          if (msg.success) handlers.onMessage(msg.data);
        });
        ws.on('close', finish);
        ws.on('error', (err) => {
          if (!opened) {
            finish();
            // The reason by kind only: a pin mismatch stays a CertificatePinError (INTEGRITY).
            reject(err instanceof EhrError ? err : new EhrError(ErrorCode.OFFLINE, 'The signalling connection to the sync server could not be opened.', { reason: (err as NodeJS.ErrnoException).code ?? 'NETWORK' }));
          }
        });
        ws.on('unexpected-response', (_req, res) => {
          const status = res.statusCode ?? 0;
          res.resume();
          ws.terminate();
          finish();
          const code = status === 401 ? ErrorCode.UNAUTHENTICATED : status === 403 ? ErrorCode.FORBIDDEN : status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.OFFLINE;
          reject(new EhrError(code, 'The sync server refused the signalling connection.', { status }));
        });
      });
    },
  };
}
