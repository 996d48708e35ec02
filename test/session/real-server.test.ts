/**
 * The session core against the REAL sync server over pinned TLS, with the REAL OS keychain
 * (gnome-keyring via scripts/keyring-session.sh): online login caches the verifier and care team,
 * sync pulls the care team's charts, a vitals write reaches the server, break-glass is granted by
 * the server, and with the server gone the same user still logs in offline.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import { createKeytarKeyStore, type KeyStore } from '../../src-main/core/keychain';
import type { Workstation } from '../../src-main/core/workstation';
import { containsCanary, vitals } from '../access/harness';
import { ok, startEnrolledWorkstation, tempDirs, forgetWorkstationKeys } from './real-stack';

const NURSE = { username: 'nurse', password: 'demo-nurse-2026' };
let server: RunningServer;
let ws: Workstation;
let keyStore: KeyStore;
const dirs = tempDirs();
const serverLog: string[] = [];
const service = `clinic-ehr-test-${randomUUID()}`;


beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: (l) => serverLog.push(JSON.stringify(l)) });
  keyStore = createKeytarKeyStore(service);
  ws = await startEnrolledWorkstation(server, { dataDir: dirs.make('ehr-ws-'), keyStore, name: 'session test workstation' });
}, 120_000);

let serverClosed = false;
afterAll(async () => {
  await ws?.close();
  if (!serverClosed) await server?.close();
  await forgetWorkstationKeys(keyStore);
  dirs.removeAll();
});

describe('against the real server', () => {
  it('online login: roles and care team from /v1/me, verifier cached; the vault key is in the OS keychain', async () => {
    const status = await ok<{ state: string; offline: boolean; user: { roles: string[] } }>(ws.invoke('auth.login', NURSE));
    expect(status).toMatchObject({ state: 'active', offline: false, user: { roles: ['nurse'] } });
    expect(ws.vault.verifiers.getById('u-nurse')?.hash).toMatch(/^\$argon2id\$/);
    const snap = ws.vault.kv.getJson<{ careTeam: string[]; restricted: string[] }>('careteam:u-nurse');
    expect(snap?.careTeam).toContain('demo-p-0002');
    expect(snap?.careTeam).not.toContain('demo-p-0009');
    expect((await keyStore.get('vault-key'))?.length).toBe(32);
  });

  it('sync pulls the care team; a vitals write is pushed through the outbox', async () => {
    const st = await ok<{ state: string }>(ws.invoke('sync.now', {}));
    expect(['idle', 'syncing']).toContain(st.state);
    const chart = await ok<{ patient: { id: string } }>(ws.invoke('patients.open', { patientId: 'demo-p-0002' }));
    expect(chart.patient.id).toBe('demo-p-0002');
    await ok(ws.invoke('records.save', { patientId: 'demo-p-0002', resource: vitals('demo-p-0002', 77) }));
    expect(ws.vault.outbox.count()).toBeGreaterThan(0);
    const after = await ok<{ pendingMutations: number }>(ws.invoke('sync.now', {}));
    expect(after.pendingMutations).toBe(0);
  });

  it('break-glass online: the server grants it; access to that one patient only', async () => {
    const denied = await ws.invoke('patients.open', { patientId: 'demo-p-0009' });
    expect(denied.ok ? null : denied.error.code).toBe('FORBIDDEN');
    const grant = await ok<{ grantId: string; expiresAt: number; startedAt: number }>(
      ws.invoke('breakGlass.request', { patientId: 'demo-p-0009', reason: 'ETREAT', justification: 'Patient collapsed, covering ward B tonight', password: NURSE.password }),
    );
    expect(ws.breakGlassAlerts.all().find((a) => a.grantId === grant.grantId)?.origin).toBe('server');
    expect(grant.expiresAt - grant.startedAt).toBe(60 * 60_000);
    // The grant brings that patient's whole seeded chart to this workstation at once (a pull by
    // patient, started by the grant — not the next 30-second cycle, nor a "sync now"), and opens
    // that patient and no other.
    const deadline = Date.now() + 15_000;
    let records: unknown[] = [];
    while (records.length === 0 && Date.now() < deadline) {
      const chart = await ws.invoke('records.list', { patientId: 'demo-p-0009' });
      expect(chart.ok ? 'allowed' : chart.error.code).toBe('allowed');
      records = chart.ok ? (chart.value as unknown[]) : [];
      if (records.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(records.length).toBeGreaterThan(0);
    const other = await ws.invoke('records.list', { patientId: 'demo-p-0010' });
    expect(other.ok ? 'allowed' : other.error.code).toBe('FORBIDDEN');
  });

  it('with the server gone, the same user logs in offline', async () => {
    await ok(ws.invoke('auth.logout', {}));
    await server.close();
    serverClosed = true;
    const status = await ok<{ state: string; offline: boolean }>(ws.invoke('auth.login', NURSE));
    expect(status).toMatchObject({ state: 'active', offline: true });
    expect(serverLog.some((l) => containsCanary(l))).toBe(false);
  });
});
