/**
 * Offline break-glass reaches the privacy officer: a workstation (REAL server over pinned TLS, REAL
 * OS keychain) loses the network, a nurse signs in offline and breaks the glass on a patient outside
 * her care team (cached here by a colleague), the network comes back, she signs in again, sync pushes the signed audit chain, the server raises the alert from the
 * break-glass-start entry, the privacy officer sees it through /v1/privacy/alerts, and the
 * workstation's alert queue is settled (pending() empty, sync status says 0).
 *
 * "Offline" is a loopback TCP relay in front of the server that stops listening and cuts its
 * connections (the client sees ECONNREFUSED / ECONNRESET, as on a pulled cable).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import { AlertListResponseSchema } from '../../src-shared/sync';
import { createKeytarKeyStore, type KeyStore } from '../../src-main/core/keychain';
import { createServerClient } from '../../src-main/core/sync/server-client';
import type { Workstation } from '../../src-main/core/workstation';
import { ok, startEnrolledWorkstation, tempDirs, relay, forgetWorkstationKeys } from './real-stack';

const NURSE = { username: 'nurse', password: 'demo-nurse-2026' };
const DOCTOR2 = { username: 'doctor2', password: 'demo-doctor2-2026' };
const PRIVACY = { username: 'privacy', password: 'demo-privacy-2026' };
/** Ward B (doctor2's team), not the nurse's: on this workstation only because doctor2 synced here. */
const PATIENT = 'demo-p-0010';
const JUSTIFICATION = 'Quintessa Marrowfield collapsed in the corridor, no chart';

let server: RunningServer;
let ws: Workstation;
let keyStore: KeyStore;
const dirs = tempDirs();
const serverLog: string[] = [];
const service = `clinic-ehr-test-${randomUUID()}`;

let link: ReturnType<typeof relay>;


beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: (l) => serverLog.push(JSON.stringify(l)) });
  link = relay(server.port);
  await link.up();
  keyStore = createKeytarKeyStore(service);
  ws = await startEnrolledWorkstation(server, {
    dataDir: dirs.make('ehr-ws-'), keyStore, name: 'offline break-glass workstation', serverUrl: `https://127.0.0.1:${link.port}`,
  });
}, 120_000);

afterAll(async () => {
  await ws?.close();
  await link?.down().catch(() => undefined);
  await server?.close();
  await forgetWorkstationKeys(keyStore);
  dirs.removeAll();
});

describe('offline break-glass reaches the privacy officer', () => {
  it('the nurse has signed in here before; doctor2 syncs Ward B here and signs out', async () => {
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', NURSE))).toMatchObject({ offline: false });
    await ok(ws.invoke('auth.logout', {}));
    await ok(ws.invoke('auth.login', DOCTOR2));
    expect(await ok<{ breakGlassAlertsPending?: number }>(ws.invoke('sync.now', {}))).toMatchObject({ breakGlassAlertsPending: 0 });
    expect(ws.vault.patients.getById(PATIENT)).toBeTruthy();
    await ok(ws.invoke('auth.logout', {}));
  }, 60_000);

  it('offline: the nurse signs in offline, the workstation grants break-glass itself and queues the alert', async () => {
    await link.down();
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', NURSE))).toMatchObject({ offline: true });
    const grant = await ok<{ grantId: string; patientId: string }>(
      ws.invoke('breakGlass.request', { patientId: PATIENT, reason: 'ETREAT', justification: JUSTIFICATION, password: NURSE.password }),
    );
    expect(grant.patientId).toBe(PATIENT);
    expect(ws.breakGlassAlerts.pending()).toMatchObject([{ grantId: grant.grantId, origin: 'offline', delivered: false }]);
    const st = await ok<{ state: string; breakGlassAlertsPending?: number }>(ws.invoke('sync.now', {}));
    expect(st.state).not.toBe('idle');
    expect(st.breakGlassAlertsPending).toBe(1);
    expect(ws.breakGlassAlerts.pending()).toHaveLength(1);
  }, 60_000);

  it('back online: the nurse signs in again, sync pushes the audit chain, the privacy officer sees one alert, the queue is empty', async () => {
    await link.up();
    // The same user's login resumes her session (the grant stays) and now gets server tokens.
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', NURSE))).toMatchObject({ offline: false });
    expect(await ok<{ patientId: string }[]>(ws.invoke('breakGlass.active', {}))).toMatchObject([{ patientId: PATIENT }]);
    const events: { breakGlassAlertsPending?: number }[] = [];
    const off = ws.onEvent((e) => {
      if (e.event === 'sync.status') events.push(e.payload);
    });
    const st = await ok<{ state: string; breakGlassAlertsPending?: number }>(ws.invoke('sync.now', {}));
    off();
    // (Entries written during the cycle itself, e.g. key accesses, wait for the next push: not the alert's.)
    expect(st).toMatchObject({ state: 'idle', breakGlassAlertsPending: 0 });
    expect(ws.breakGlassAlerts.pending()).toEqual([]);
    expect(ws.breakGlassAlerts.all().find((a) => a.patientId === PATIENT)).toMatchObject({ origin: 'offline', delivered: true });
    expect(events.at(-1)?.breakGlassAlertsPending).toBe(0);

    const officer = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: ws.deviceId });
    try {
      await officer.login(PRIVACY);
      const body = AlertListResponseSchema.parse(await officer.call({ method: 'GET', path: '/v1/privacy/alerts?open=true', auth: true }));
      const mine = body.alerts.filter((a) => a.kind === 'break-glass' && a.patientId === PATIENT);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ userId: 'u-nurse', severity: 'medium', detail: { source: 'device', deviceId: ws.deviceId, reason: 'ETREAT' } });
      expect(JSON.stringify(body)).not.toContain('Quintessa');
    } finally {
      officer.close();
    }
    expect(serverLog.some((l) => l.includes('Quintessa'))).toBe(false);

    // Another sync changes nothing: still one alert, still nothing pending.
    expect(await ok<{ breakGlassAlertsPending?: number }>(ws.invoke('sync.now', {}))).toMatchObject({ breakGlassAlertsPending: 0 });
  }, 60_000);

  it('an online grant (the server raised its alert) is not alerted again when its audit entry arrives', async () => {
    const grant = await ok<{ grantId: string }>(
      ws.invoke('breakGlass.request', { patientId: 'demo-p-0009', reason: 'BTG', justification: JUSTIFICATION, password: NURSE.password }),
    );
    expect(ws.breakGlassAlerts.all().find((a) => a.grantId === grant.grantId)).toMatchObject({ origin: 'server', delivered: true });
    expect(await ok<{ breakGlassAlertsPending?: number }>(ws.invoke('sync.now', {}))).toMatchObject({ breakGlassAlertsPending: 0 });
    const officer = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: ws.deviceId });
    try {
      await officer.login(PRIVACY);
      const body = AlertListResponseSchema.parse(await officer.call({ method: 'GET', path: '/v1/privacy/alerts', auth: true }));
      const alerts = body.alerts.filter((a) => a.kind === 'break-glass' && a.patientId === 'demo-p-0009');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.detail).toMatchObject({ source: 'server', grantId: grant.grantId });
    } finally {
      officer.close();
    }
  }, 60_000);
});
