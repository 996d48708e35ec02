/**
 * Session benchmark: "Switch user" on a shared workstation. The real workstation core (SQLCipher
 * vault, key in the real keychain, OWASP Argon2id for the offline verifier) against the real sync
 * server over pinned TLS, two nurses of different wards (demo seed).
 *
 *   first_sync_ms              a nurse's first sign-in here plus her first complete pull (the cost a switch must NOT pay)
 *   switch_user_online_p95_ms  lock screen "Switch user" -> the other nurse signed in (online: server login, /v1/me, verifier refresh)
 *   switch_user_offline_p95_ms the same with the server unreachable (the cached verifier)
 *   records_pulled_after_switch   records the server sent in the sync right after switching back (nothing changed meanwhile)
 *   switch_vs_first_sync_ratio switch (online p95) / first sync, measured in this run
 *
 * Run: npm run bench -- session. Never passes or fails on time; the target is printed beside it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startServer } from '../../src-server/index';
import { createKeytarKeyStore } from '../../src-main/core/keychain';
import type { Workstation } from '../../src-main/core/workstation';
import { percentile, type BenchResult } from './bench-kit';
import { DEMO, call, enrollDevice, login } from '../server/helpers';
import { forgetWorkstationKeys, ok, relay, startEnrolledWorkstation, tempDirs } from '../session/real-stack';

const PATIENTS = Number(process.env.BENCH_SESSION_PATIENTS ?? 200);
const SWITCHES = 10;
const NURSE_B = { username: 'nurse.b', password: 'ward-b-nurse-2026' };

async function pulledRecords(server: { url: string; caCert?: string | undefined }, token: string, userId: string, since: string): Promise<number> {
  const res = await call<{ rows: Array<{ type: string; detail: { records?: number } | null }> }>(server, 'GET', `/v1/privacy/audit?source=server&userId=${userId}&from=${encodeURIComponent(since)}&limit=1000`, { token });
  return res.body.rows.filter((r) => r.type === 'sync-pull').reduce((n, r) => n + Number(r.detail?.records ?? 0), 0);
}

export default async function run(): Promise<BenchResult> {
  const dirs = tempDirs();
  const server = await startServer({ dataDir: dirs.make('ehr-bench-srv-'), port: 0, seed: 'demo', demoPatients: PATIENTS, log: () => undefined });
  const link = relay(server.port);
  await link.up();
  const keyStore = createKeytarKeyStore(`clinic-ehr-bench-${randomUUID()}`);
  let ws: Workstation | undefined;
  try {
    const device = (await enrollDevice(server)).deviceId;
    const admin = (await login(server, DEMO.admin, device)).accessToken;
    const privacy = (await login(server, DEMO.privacy, device)).accessToken;
    const created = await call<{ id: string }>(server, 'POST', '/v1/admin/users', { token: admin, body: { username: NURSE_B.username, displayName: 'Bea Ward-B Nurse', password: NURSE_B.password, roles: ['nurse'] } });
    const teams = await call<{ teams: Array<{ id: string; name: string; userIds: string[]; patientIds: string[] }> }>(server, 'GET', '/v1/admin/care-teams', { token: admin });
    const wardB = teams.body.teams.find((t) => t.id === 'team-ward-b')!;
    await call(server, 'PUT', '/v1/admin/care-teams/team-ward-b', { token: admin, body: { name: wardB.name, userIds: [...wardB.userIds, created.body.id], patientIds: wardB.patientIds } });

    ws = await startEnrolledWorkstation(server, { dataDir: dirs.make('ehr-bench-ws-'), keyStore, name: 'bench shared workstation', serverUrl: `https://127.0.0.1:${link.port}` });
    const w = ws;
    let t0 = performance.now();
    await ok(w.invoke('auth.login', DEMO.nurse));
    await ok(w.invoke('sync.now', {}));
    const firstSyncMs = performance.now() - t0;
    await ok(w.invoke('auth.switchUser', {}));
    await ok(w.invoke('auth.login', NURSE_B));
    await ok(w.invoke('sync.now', {}));

    const switchTo = async (who: { username: string; password: string }): Promise<number> => {
      t0 = performance.now();
      await ok(w.invoke('auth.switchUser', {}));
      await ok(w.invoke('auth.login', who));
      return performance.now() - t0;
    };
    const online: number[] = [];
    for (let i = 0; i < SWITCHES; i++) online.push(await switchTo(i % 2 === 0 ? DEMO.nurse : NURSE_B));
    // Back to nurse A; what does her next sync bring? Nothing changed on the server meanwhile.
    await switchTo(DEMO.nurse);
    const since = new Date(Date.now() - 1000).toISOString();
    await ok(w.invoke('sync.now', {}));
    const pulled = await pulledRecords(server, privacy, 'u-nurse', since);

    await link.down();
    const offline: number[] = [];
    for (let i = 0; i < SWITCHES; i++) offline.push(await switchTo(i % 2 === 0 ? NURSE_B : DEMO.nurse));
    await link.up();

    const onlineP95 = percentile(online, 95);
    return {
      figures: {
        first_sync_ms: Math.round(firstSyncMs),
        switch_user_online_p95_ms: Math.round(onlineP95),
        switch_user_offline_p95_ms: Math.round(percentile(offline, 95)),
        records_pulled_after_switch: pulled,
        switch_vs_first_sync_ratio: Number((onlineP95 / firstSyncMs).toFixed(3)),
      },
      targets: { switch_user_online_p95_ms: '<= 2000', switch_user_offline_p95_ms: '<= 2000', records_pulled_after_switch: '0 (no re-pull)' },
      details: { patients: PATIENTS, switches: SWITCHES, online, offline },
      notes: ['Offline: the server is cut by a TCP relay; the login falls back to the cached Argon2id verifier (OWASP m=19 MiB, t=2).'],
    };
  } finally {
    await ws?.close();
    await link.down().catch(() => undefined);
    await server.close();
    await forgetWorkstationKeys(keyStore);
    dirs.removeAll();
  }
}
