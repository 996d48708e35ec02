/** Device audit ingest: the shared chain code verifies signature and continuity; gaps, forks, edits and replays are refused. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEntry, linkEntry, signCheckpoint } from '../../src-shared/node/audit-chain';
import type { AuditEntry, AuditEntryInput } from '../../src-shared/audit';
import { AuditBundleSchema, AuditQueryResponseSchema } from '../../src-shared/sync';
import { DEMO, VARIANTS, call, enrollDevice, login, startTestServer, type EnrolledDevice, type TestServer } from './helpers';

const read = (patientId: string): AuditEntryInput => ({
  action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId,
  resourceRefs: [`Observation/${patientId}-obs-hr`], correlationId: `corr-${randomUUID()}`,
});

function chain(dev: EnrolledDevice, n: number, from: AuditEntry | null = null): AuditEntry[] {
  const out: AuditEntry[] = [];
  let head = from ? { seq: from.seq, hash: from.hash } : null;
  for (let i = 0; i < n; i++) {
    const e = linkEntry(head, dev.deviceId, read('demo-p-0002'), dev.privateKey);
    out.push(e);
    head = { seq: e.seq, hash: e.hash };
  }
  return out;
}

describe.each(VARIANTS)('audit ingest on $name', (variant) => {
  let server: TestServer;
  let dev: EnrolledDevice;
  let token: string;
  let privacy: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    dev = await enrollDevice(server);
    token = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const ingest = (entries: unknown[], deviceId = dev.deviceId, t = token) => call(server, 'POST', '/v1/audit', { token: t, body: { deviceId, entries } });

  it('accepts a continuous signed chain in batches and refuses gap, fork, edit, replay and bad signature', async () => {
    const entries = chain(dev, 10);
    const first = await ingest(entries.slice(0, 4));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 4, lastSeq: 4, lastHash: entries[3]!.hash });

    const gap = await ingest(entries.slice(5, 7));
    expect(gap.status).toBe(409);
    expect(gap.body).toMatchObject({ code: 'INTEGRITY', detail: { problem: 'gap', seq: 6 } });

    const replay = await ingest(entries.slice(2, 6));
    expect(replay.body).toMatchObject({ code: 'INTEGRITY', detail: { problem: 'replay', lastSeq: 4 } });

    const forkDev = { ...dev };
    const other = chain(forkDev, 5); // a different history for the same device (fresh correlation ids)
    const fork = await ingest([other[4]!]);
    expect(fork.body).toMatchObject({ code: 'INTEGRITY', detail: { problem: 'fork', seq: 5 } });

    const edited = { ...entries[4]!, patientId: 'demo-p-0003' };
    expect((await ingest([edited])).body).toMatchObject({ detail: { problem: 'edit', seq: 5 } });

    const stranger = generateKeyPairSync('ed25519');
    const forged = linkEntry({ seq: 4, hash: entries[3]!.hash }, dev.deviceId, read('demo-p-0002'), stranger.privateKey);
    expect((await ingest([forged])).body).toMatchObject({ detail: { problem: 'signature', seq: 5 } });

    // Nothing refused was stored; the rest of the true chain still continues.
    const ok = await ingest(entries.slice(4));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ lastSeq: 10 });
    const stored = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM device_audit WHERE device_id = $1', [dev.deviceId]);
    expect(stored[0]!.n).toBe(10);
    const refusals = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'audit-chain-rejected'");
    expect(refusals.length).toBe(5);
  });

  it('takes a batch signed only at its end (a checkpoint, as the workstation sends) and refuses one that is not', async () => {
    const own = await enrollDevice(server);
    const t = (await login(server, DEMO.nurse, own.deviceId)).accessToken;
    const send = (entries: AuditEntry[]) => ingest(entries, own.deviceId, t);
    const hashesOnly = (n: number, from: AuditEntry | null = null): AuditEntry[] => {
      const out: AuditEntry[] = [];
      let head = from ? { seq: from.seq, hash: from.hash } : null;
      for (let i = 0; i < n; i++) {
        // Logins, not chart reads: 300 reads would trip the access-rate monitor for the other tests.
        const e = linkEntry(head, own.deviceId, { action: 'E', type: 'login', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: null, correlationId: `corr-${randomUUID()}` });
        out.push(e);
        head = { seq: e.seq, hash: e.hash };
      }
      return out;
    };
    const batch = hashesOnly(300);
    const unsigned = await send(batch);
    expect(unsigned.status).toBe(409);
    expect(unsigned.body).toMatchObject({ code: 'INTEGRITY', detail: { problem: 'unsigned', seq: 300 } });

    // An attacker without the device key edits one entry and re-hashes the rest: the checkpoint gives it away.
    const signedEnd = [...batch.slice(0, 299), signCheckpoint(batch[299]!, own.privateKey)];
    const tampered: AuditEntry[] = signedEnd.map((e) => ({ ...e }));
    tampered[100] = { ...tampered[100]!, outcome: 'denied' };
    for (let j = 100; j < tampered.length; j++) {
      const prevHash = tampered[j - 1]!.hash;
      const body = { ...tampered[j]!, prevHash };
      tampered[j] = { ...body, hash: hashEntry(body) };
    }
    expect((await send(tampered)).body).toMatchObject({ detail: { problem: 'signature', seq: 300 } });

    const ok = await send(signedEnd);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ accepted: 300, lastSeq: 300, lastHash: batch[299]!.hash });
    const next = hashesOnly(2, batch[299]!);
    expect((await send([next[0]!, signCheckpoint(next[1]!, own.privateKey)])).status).toBe(200);
    // The checkpoint signatures are kept with the entries, so the stored chain can be checked again later.
    const kept = await server.db.query<{ seq: string; signed: boolean }>(
      "SELECT seq::text AS seq, (entry ? 'signature') AS signed FROM device_audit WHERE device_id = $1 AND entry ? 'signature' ORDER BY seq",
      [own.deviceId],
    );
    expect(kept.map((r) => Number(r.seq))).toEqual([300, 302]);
  });

  it('a device may only send its own chain', async () => {
    const other = await enrollDevice(server);
    const res = await ingest(chain(other, 1), other.deviceId);
    expect(res.status).toBe(403);
  });

  it('stores entries append-only and exports them as FHIR AuditEvent', async () => {
    await expect(server.db.query('UPDATE device_audit SET patient_id = NULL')).rejects.toThrow();
    const q = await call(server, 'GET', `/v1/privacy/audit?patientId=demo-p-0002&source=device`, { token: privacy });
    expect(q.status).toBe(200);
    const rows = AuditQueryResponseSchema.parse(q.body).rows;
    expect(rows.length).toBe(10);
    const fhir = await call(server, 'GET', `/v1/privacy/audit/fhir?patientId=demo-p-0002&source=device&limit=3`, { token: privacy });
    const bundle = AuditBundleSchema.parse(fhir.body);
    expect(bundle.entry).toHaveLength(3);
    const ev = bundle.entry[0]!.resource;
    expect(ev.action).toBe('R');
    expect(ev.entity?.[0]?.what?.reference).toBe('Patient/demo-p-0002');
    expect(ev.agent[0]?.who?.reference).toBe('Practitioner/u-nurse');
    // Clinicians cannot query the audit trail.
    expect((await call(server, 'GET', '/v1/privacy/audit', { token })).status).toBe(403);
  });
});
