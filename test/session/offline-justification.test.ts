/**
 * An offline break-glass's free-text justification reaches the privacy officer, end to end: the REAL
 * workstation core (real OS keychain, real vault) and the REAL sync server (PGlite and PostgreSQL)
 * over pinned TLS, "offline" being a TCP relay the test cuts.
 *
 * The nurse breaks the glass offline on three Ward B patients (charts cached by doctor2) and signs
 * out. Back online, the texts wait while doctor2 is the user in front (the device sends a text only
 * as the user who wrote it) even though doctor2's sync pushes the audit chain; a send before the
 * chain arrived is refused as not-ingested (retry later); a send while the server is down changes
 * nothing. Meanwhile the server gets text 2 exactly (as if the workstation's answer had been lost)
 * and a DIFFERENT text for entry 3. When the nurse signs in online again, one sync delivers text 1
 * (stored), text 2 (already stored: idempotent) and is refused for 3 (kept in the vault, counted,
 * retryable by an admin). The privacy review shows the texts; the canary never appears in the
 * server's logs or database in plaintext, nor in the vault once delivered. An online grant's text
 * is never kept in the vault at all.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakGlassListResponseSchema } from '../../src-shared/sync';
import { classifyJustificationError, deliverJustifications } from '../../src-main/core/access';
import { createKeytarKeyStore, type KeyStore } from '../../src-main/core/keychain';
import { createServerClient, type ServerClient } from '../../src-main/core/sync/server-client';
import type { Workstation } from '../../src-main/core/workstation';
import { DEMO, VARIANTS, dumpDatabaseText, startTestServer, type TestServer } from '../server/helpers';
import { ok, startEnrolledWorkstation, tempDirs, relay, forgetWorkstationKeys } from './real-stack';

/** 15 demo patients: Ward B (doctor2's team, not the nurse's) is 0013-0015. */
const P = ['demo-p-0013', 'demo-p-0014', 'demo-p-0015'] as const;
const TEXT = [
  'Hieronyma Canarybell MRN CANARY-J1-5521 seizing in waiting room',
  'Bartholomew Canarymoss MRN CANARY-J2-8830 anaphylaxis at front desk',
  'Philippa Canarythorn MRN CANARY-J3-1147 fell on stairs, head injury',
] as const;
const PLANTED = 'A different account of the same event, sent from elsewhere';
const ONLINE_TEXT = 'Online emergency: Cornelius Canaryfield MRN CANARY-ON-3390 arrested';
const MARKERS = ['Canarybell', 'CANARY-J1-5521', 'Canarymoss', 'CANARY-J2-8830', 'Canarythorn', 'CANARY-J3-1147', 'Canaryfield', 'CANARY-ON-3390'];


interface Status {
  state: string;
  breakGlassAlertsPending?: number;
  breakGlassJustificationsPending?: number;
  breakGlassJustificationsRefused?: number;
}

describe.each(VARIANTS)('offline break-glass justification, workstation to privacy officer, on $name', (variant) => {
  let server: TestServer;
  let ws: Workstation;
  let keyStore: KeyStore;
  let link: ReturnType<typeof relay>;
  const dirs = tempDirs();
  const service = `clinic-ehr-test-${randomUUID()}`;
  const consoleLines: string[] = [];
  const restore: (() => void)[] = [];
  const grants: string[] = [];

  beforeAll(async () => {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const orig = console[level];
      console[level] = (...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '));
        orig(...args);
      };
      restore.push(() => {
        console[level] = orig;
      });
    }
    server = await startTestServer(variant, { demoPatients: 15 });
    link = relay(server.port);
    await link.up();
    keyStore = createKeytarKeyStore(service);
    ws = await startEnrolledWorkstation(server, {
      dataDir: dirs.make('ehr-ws-'), keyStore, name: `justification workstation (${variant.name})`, serverUrl: `https://127.0.0.1:${link.port}`,
    });
  }, 120_000);

  afterAll(async () => {
    await ws?.close();
    await link?.down().catch(() => undefined);
    await server?.stop();
    await forgetWorkstationKeys(keyStore);
    dirs.removeAll();
    for (const r of restore) r();
  });

  /** The nurse's own client on this device (a separate token family), for what the test plants on the server. */
  const nurseClient = async (serverUrl = server.url): Promise<ServerClient> => {
    const c = createServerClient({ serverUrl, fingerprint: server.fingerprint, deviceId: ws.deviceId });
    await c.login(DEMO.nurse);
    return c;
  };
  const startEntry = (patientId: string): { seq: number; correlationId: string } => {
    const row = ws.vault.db
      .prepare<[string], { seq: number; entry: string }>("SELECT seq, entry FROM audit_log WHERE type = 'break-glass-start' AND patient_id = ? ORDER BY seq DESC LIMIT 1")
      .get(patientId)!;
    return { seq: row.seq, correlationId: (JSON.parse(row.entry) as { correlationId: string }).correlationId };
  };
  const bodyFor = (i: number, justification: string = TEXT[i]!) => ({ patientId: P[i]!, deviceId: ws.deviceId, ...startEntry(P[i]!), reason: 'ETREAT' as const, justification });
  const review = async () => {
    const officer = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: ws.deviceId });
    try {
      await officer.login(DEMO.privacy);
      return BreakGlassListResponseSchema.parse(await officer.call({ method: 'GET', path: '/v1/privacy/break-glass', auth: true }));
    } finally {
      officer.close();
    }
  };
  const offlineText = async (patientId: string) => (await review()).offline?.find((o) => o.patientId === patientId && o.deviceId === ws.deviceId)?.justification;
  /** Every table of the vault, as text (the vault file itself is encrypted; this is what it holds). */
  const vaultText = (): string => {
    const tables = ws.vault.db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    return tables.map(({ name }) => JSON.stringify(ws.vault.db.prepare(`SELECT * FROM "${name}"`).all())).join('\n');
  };
  const queued = (i: number) => ws.breakGlassAlerts.all().find((a) => a.grantId === grants[i]);

  it('the nurse has signed in here before; doctor2 brings Ward B here and signs out', async () => {
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', DEMO.nurse))).toMatchObject({ offline: false });
    await ok(ws.invoke('auth.logout', {}));
    await ok(ws.invoke('auth.login', DEMO.doctor2));
    await ok(ws.invoke('sync.now', {}));
    for (const p of P) expect(ws.vault.patients.getById(p)).toBeTruthy();
    await ok(ws.invoke('auth.logout', {}));
  }, 60_000);

  it('offline: three break-glass grants, each text kept in the vault queue; a sync while offline loses nothing', async () => {
    await link.down();
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', DEMO.nurse))).toMatchObject({ offline: true });
    for (const [i, p] of P.entries()) {
      const g = await ok<{ grantId: string }>(ws.invoke('breakGlass.request', { patientId: p, reason: 'ETREAT', justification: TEXT[i], password: DEMO.nurse.password }));
      grants.push(g.grantId);
    }
    const st = await ok<Status>(ws.invoke('sync.now', {}));
    expect(st).toMatchObject({ breakGlassAlertsPending: 3, breakGlassJustificationsPending: 3, breakGlassJustificationsRefused: 0 });
    for (const i of [0, 1, 2]) expect(queued(i)).toMatchObject({ origin: 'offline', delivered: false, justification: TEXT[i] });
    await ok(ws.invoke('auth.logout', {}));
  }, 60_000);

  it('back online: a text for an entry the server has not ingested is refused as retryable', async () => {
    await link.up();
    const c = await nurseClient();
    try {
      const err = await c.breakGlassJustification(bodyFor(0)).then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_FOUND', detail: { problem: 'not-ingested', retry: true } });
      expect(classifyJustificationError(err)).toBe('retry');
      expect(JSON.stringify(err)).not.toContain('Canarybell');
    } finally {
      c.close();
    }
  }, 60_000);

  it('doctor2 in front: the chain is pushed (alerts raised) but the nurse\'s texts wait for her', async () => {
    await ok(ws.invoke('auth.login', DEMO.doctor2));
    const st = await ok<Status>(ws.invoke('sync.now', {}));
    expect(st).toMatchObject({ state: 'idle', breakGlassAlertsPending: 0, breakGlassJustificationsPending: 3, breakGlassJustificationsRefused: 0 });
    for (const i of [0, 1, 2]) expect(queued(i)).toMatchObject({ delivered: true, justification: TEXT[i] });
    expect(ws.breakGlassAlerts.justificationsDue('u-physician2')).toEqual([]);
    expect(ws.breakGlassAlerts.justificationsDue('u-nurse')).toHaveLength(3);
    const before = await review();
    expect(before.offline?.filter((o) => o.deviceId === ws.deviceId && P.includes(o.patientId as (typeof P)[number])).map((o) => o.justification)).toEqual([null, null, null]);
  }, 60_000);

  it('a send while the server is down changes nothing: the texts stay queued', async () => {
    const c = await nurseClient(`https://127.0.0.1:${link.port}`);
    await link.down();
    try {
      const report = await deliverJustifications(ws.breakGlassAlerts, 'u-nurse', ws.deviceId, (req, correlationId) =>
        c.breakGlassJustification(req, correlationId ? { correlationId } : undefined), Date.now);
      expect(report).toEqual({ sent: 0, refused: 0, waiting: 3 });
      for (const i of [0, 1, 2]) expect(queued(i)).toMatchObject({ justification: TEXT[i] });
      expect(queued(0)!.justificationState).toBeUndefined();
    } finally {
      c.close();
      await link.up();
    }
  }, 60_000);

  it('the server meanwhile holds text 2 (a lost answer) and a different text for entry 3', async () => {
    const c = await nurseClient();
    try {
      expect(await c.breakGlassJustification(bodyFor(1))).toMatchObject({ status: 'stored' });
      expect(await c.breakGlassJustification(bodyFor(2, PLANTED))).toMatchObject({ status: 'stored' });
    } finally {
      c.close();
    }
    await ok(ws.invoke('auth.logout', {}));
  }, 60_000);

  it('the nurse signs in online: one sync sends text 1, settles text 2, keeps the refused text 3 and counts it', async () => {
    expect(await ok<{ offline: boolean }>(ws.invoke('auth.login', DEMO.nurse))).toMatchObject({ offline: false });
    const st = await ok<Status>(ws.invoke('sync.now', {}));
    expect(st).toMatchObject({ state: 'idle', breakGlassJustificationsPending: 0, breakGlassJustificationsRefused: 1 });
    for (const i of [0, 1]) {
      const a = queued(i)!;
      expect(a.justificationState).toBe('sent');
      expect(a.justification).toBeUndefined();
    }
    expect(queued(2)).toMatchObject({ justificationState: 'refused', justification: TEXT[2], justificationRefusal: { code: 'CONFLICT', problem: 'different-text' } });

    // The server's audit: ids and codes; text 2 was already there (the retry of a lost answer is accepted).
    const rows = await server.db.query<{ outcome: string; user_id: string; device_id: string; patient_id: string; detail: Record<string, unknown> }>(
      "SELECT outcome, user_id, device_id, patient_id, detail FROM server_audit WHERE type = 'break-glass-justification' ORDER BY id",
    );
    const last = (p: string) => rows.filter((r) => r.patient_id === p).at(-1);
    expect(last(P[0])).toMatchObject({ outcome: 'success', user_id: 'u-nurse', device_id: ws.deviceId, detail: { status: 'stored', seq: startEntry(P[0]).seq } });
    expect(last(P[1])).toMatchObject({ outcome: 'success', detail: { status: 'already-stored' } });
    expect(last(P[2])).toMatchObject({ outcome: 'failure', detail: { problem: 'different-text' } });

    expect(await offlineText(P[0])).toBe(TEXT[0]);
    expect(await offlineText(P[1])).toBe(TEXT[1]);
    expect(await offlineText(P[2])).toBe(PLANTED);

    // A later sync neither resends nor drops anything.
    expect(await ok<Status>(ws.invoke('sync.now', {}))).toMatchObject({ breakGlassJustificationsPending: 0, breakGlassJustificationsRefused: 1 });
    expect(queued(2)!.justification).toBe(TEXT[2]);

    // An admin's retry makes it due again; the server still refuses it, and it is still kept.
    expect(ws.breakGlassAlerts.retryRefused()).toBe(1);
    expect(await ok<Status>(ws.invoke('sync.now', {}))).toMatchObject({ breakGlassJustificationsPending: 0, breakGlassJustificationsRefused: 1 });
    expect(queued(2)).toMatchObject({ justificationState: 'refused', justification: TEXT[2] });
  }, 60_000);

  it('an online grant: the server seals the text at grant time and the vault keeps no copy of it', async () => {
    const g = await ok<{ grantId: string }>(ws.invoke('breakGlass.request', { patientId: 'demo-p-0001', reason: 'BTG', justification: ONLINE_TEXT, password: DEMO.nurse.password }));
    const a = ws.breakGlassAlerts.all().find((x) => x.grantId === g.grantId);
    expect(a).toMatchObject({ origin: 'server', delivered: true });
    expect(a!.justification).toBeUndefined();
    expect((await review()).grants.find((x) => x.id === g.grantId)?.justification).toBe(ONLINE_TEXT);
  }, 60_000);

  it('the delivered canaries are gone from the vault, and no canary is in server logs, database or workstation console', async () => {
    const vault = vaultText();
    for (const m of MARKERS.filter((x) => !x.includes('thorn') && !x.includes('J3'))) expect(vault, m).not.toContain(m);
    expect(vault).toContain('Canarythorn'); // the refused one is kept, on purpose
    const logs = JSON.stringify(server.logs);
    const db = await dumpDatabaseText(server);
    for (const m of MARKERS) {
      expect(logs, m).not.toContain(m);
      expect(db, m).not.toContain(m);
      expect(consoleLines.join('\n'), m).not.toContain(m);
    }
    expect(db).not.toContain(PLANTED);
  }, 60_000);
});
