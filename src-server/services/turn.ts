/**
 * ICE servers for a visit's peers. With TURN configured (coturn `use-auth-secret`), credentials
 * follow the TURN REST API: username = "<expiry epoch seconds>:<user id>", credential =
 * base64(HMAC-SHA1(shared secret, username)). coturn checks the HMAC and the expiry itself, so a
 * leaked credential dies with its ttl and the secret never leaves the two servers.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../../src-shared/sync';

export interface TurnConfig {
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

export function iceServersFor(turn: TurnConfig | null, userId: string, now: Date): { iceServers: IceServer[]; ttlSeconds: number } {
  if (!turn || turn.urls.length === 0) return { iceServers: [], ttlSeconds: 0 };
  const username = `${Math.floor(now.getTime() / 1000) + turn.ttlSeconds}:${userId}`;
  return { iceServers: [{ urls: turn.urls, username, credential: turnCredential(turn.secret, username) }], ttlSeconds: turn.ttlSeconds };
}
