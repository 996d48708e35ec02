/**
 * The shared authenticated call (src-main/core/sync/authed-call.ts) that the visit routes and the
 * privacy review both go through: a visit started after the access token expired succeeds after
 * exactly one refresh against the REAL server (its clock moved past the 15-minute token), the
 * signalling socket upgrades with the refreshed token, and a 401 that survives the refresh ends in
 * the server's own "sign in again" error after one refresh, never a loop.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { LogLine } from '../../src-server/http/log';
import type { RecordingView, VisitSession } from '../../src-shared/api/types';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { privacyPortFromClient } from '../../src-main/core/access/privacy-review';
import type { ClientAuthServer } from '../../src-main/core/auth';
import type { ServerClient } from '../../src-main/core/sync/server-client';
import { visitServerFromClient } from '../../src-main/core/telemedicine';
import type { Workstation } from '../../src-main/core/workstation';
import { ok, tempDirs } from '../session/real-stack';
import { closeStack, doctorWorkstation } from './helpers/doctor-stack';

const PATIENT = 'demo-p-0002';
const dirs = tempDirs();

describe('a visit after the access token expired (real server)', () => {
  let server: RunningServer;
  let ws: Workstation;
  let clock = Date.now();
  const logs: LogLine[] = [];

  beforeAll(async () => {
    server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, now: () => new Date(clock), log: (l) => logs.push(l) });
    // The sync engine's own timer stays out of the way: the visit call is the one that meets the 401.
    ws = await doctorWorkstation(server, dirs, { name: 'refresh test', syncIntervalMs: 3_600_000 });
  }, 120_000);

  afterAll(() => closeStack(ws, server, dirs));

  it('refreshes once, retries, and the signalling socket uses the new token', async () => {
    const mark = logs.length;
    clock += 16 * 60_000; // past the 15-minute access token, well inside the refresh token's life
    const visit = await ok<VisitSession>(ws.invoke('visits.start', { patientId: PATIENT }));
    expect(visit.status).toBe('open');

    const after = logs.slice(mark).filter((l) => l.event === 'request');
    const refreshes = after.filter((l) => l.route === '/v1/auth/refresh');
    expect(refreshes.map((l) => l.status)).toEqual([200]);
    const starts = after.filter((l) => l.route === '/v1/visits' && l.method === 'POST');
    expect(starts.map((l) => l.status)).toEqual([401, 200]);
    // The refresh came between the refused call and its retry.
    expect(after.indexOf(refreshes[0]!)).toBeGreaterThan(after.indexOf(starts[0]!));
    expect(after.indexOf(refreshes[0]!)).toBeLessThan(after.indexOf(starts[1]!));
    // The host socket upgraded (the server logs the host side joining), with no refused upgrade.
    const joins = logs.slice(mark).filter((l) => l.visitId === visit.visitId && l.event === 'visit-signal-join');
    expect(joins.map((l) => l.side)).toEqual(['host']);
    expect(after.filter((l) => l.route?.includes('/signal') && l.status === 401)).toEqual([]);

    // The next calls use the rotated token without another refresh.
    await ok(ws.invoke('visits.consent', { visitId: visit.visitId, recording: true, method: 'verbal' }));
    const rec = await ok<RecordingView>(ws.invoke('recordings.start', { visitId: visit.visitId, mimeType: 'video/webm' }));
    expect(rec.status).toBe('recording');
    expect(logs.slice(mark).filter((l) => l.route === '/v1/auth/refresh')).toHaveLength(1);
    await ok(ws.invoke('visits.end', { visitId: visit.visitId }));
  });

  it('a signalling socket that drops long after the last call reconnects after one refresh, and the visit stays open', async () => {
    const visit = await ok<VisitSession>(ws.invoke('visits.start', { patientId: PATIENT }));
    const entry = () => ws.telemedicine!.registry.all().find((v) => v.visitId === visit.visitId);
    const first = entry()?.socket;
    expect(first).toBeTruthy();
    const mark = logs.length;
    clock += 16 * 60_000; // no REST call since: the session's access token is now expired
    first!.close(); // the network blips
    const deadline = Date.now() + 15_000;
    while ((!entry()?.socket || entry()?.socket === first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(entry()?.status).toBe('open');
    expect(entry()?.socket).toBeTruthy();
    expect(entry()?.socket).not.toBe(first);
    const after = logs.slice(mark);
    expect(after.filter((l) => l.event === 'request' && l.route === '/v1/auth/refresh').map((l) => l.status)).toEqual([200]);
    expect(after.filter((l) => l.visitId === visit.visitId && l.event === 'visit-signal-join').map((l) => l.side)).toEqual(['host']);
    await ok(ws.invoke('visits.end', { visitId: visit.visitId }));
  });
});

/** A client whose every authenticated call is refused with 401, counting calls and refreshes. */
function refusingClient(opts: { refreshRefused?: boolean } = {}) {
  const seen = { calls: 0, refreshes: 0, paths: [] as string[] };
  const client: Pick<ServerClient, 'call' | 'refresh'> = {
    async call(req) {
      seen.calls++;
      seen.paths.push(req.path);
      throw new EhrError(ErrorCode.UNAUTHENTICATED, 'Sign in again: the access token is not valid.', { why: 'invalid', status: 401, path: req.path });
    },
    async refresh() {
      seen.refreshes++;
      if (opts.refreshRefused) throw new EhrError(ErrorCode.UNAUTHENTICATED, 'The refresh token is not valid; sign in again.', { status: 401, path: '/v1/auth/refresh' });
      return { accessToken: `a-${seen.refreshes}`, refreshToken: `r-${seen.refreshes}`, accessExpiresAt: '', refreshExpiresAt: '', user: { id: 'u', username: 'u', displayName: 'u', roles: [] } };
    },
  };
  return { client, seen };
}

async function refusal(p: Promise<unknown>): Promise<EhrError> {
  const e: unknown = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(EhrError);
  return e as EhrError;
}

describe('a 401 that survives the refresh', () => {
  it('visit calls: one refresh, one retry, then the clear error', async () => {
    const { client, seen } = refusingClient();
    const e = await refusal(visitServerFromClient(client).startVisit(PATIENT, randomUUID()));
    expect(e.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(e.message).toMatch(/sign in again/i);
    expect(seen).toMatchObject({ calls: 2, refreshes: 1, paths: ['/v1/visits', '/v1/visits'] });
    // No PHI in the error: the patient id was in the body, never in the message or detail.
    expect(JSON.stringify(e)).not.toContain(PATIENT);
  });

  it('a refused refresh is not retried at all', async () => {
    const { client, seen } = refusingClient({ refreshRefused: true });
    const e = await refusal(visitServerFromClient(client).putChunk('rec-1', 3, { v: 1 } as never, randomUUID()));
    expect(e.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(seen).toMatchObject({ calls: 1, refreshes: 1, paths: ['/v1/recordings/rec-1/chunks/3'] });
  });

  it('the privacy review goes through the same call (same rule, its own tokens installed first)', async () => {
    const { client, seen } = refusingClient();
    const installed: unknown[] = [];
    const auth = { install: (t: unknown) => installed.push(t) } as unknown as ClientAuthServer;
    const tokens = { accessToken: 'a', refreshToken: 'r' };
    const e = await refusal(privacyPortFromClient(client as ServerClient, auth).queue(tokens, true, randomUUID()));
    expect(e.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect(seen).toMatchObject({ calls: 2, refreshes: 1, paths: ['/v1/privacy/queue?open=true', '/v1/privacy/queue?open=true'] });
    expect(installed).toEqual([tokens]);
  });

  it('an answer that does not match the route schema is an integrity error, after a successful refresh too', async () => {
    let calls = 0;
    const client: Pick<ServerClient, 'call' | 'refresh'> = {
      async call() {
        calls++;
        if (calls === 1) throw new EhrError(ErrorCode.UNAUTHENTICATED, 'expired', { status: 401 });
        return { visitId: 42 };
      },
      refresh: async () => ({}) as never,
    };
    const e = await refusal(visitServerFromClient(client).startVisit(PATIENT, randomUUID()));
    expect(e.code).toBe(ErrorCode.INTEGRITY);
    expect(e.detail).toMatchObject({ route: 'startVisit', path: '/v1/visits' });
    expect(calls).toBe(2);
  });
});
