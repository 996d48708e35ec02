/**
 * Audit never stops flowing (issue 14): a read naming more records than the server takes per entry
 * is split into accepted entries; an entry the server would refuse is quarantined (sent as its
 * link only), so the entries behind it still reach the server, and the chain stays verifiable.
 * Real server, real vault, real sync engine.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditWriter } from '../../src-main/core/audit/audit-writer';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { AuditIngestRequest } from '../../src-shared/sync/audit';
import type { AuditEntryInput } from '../../src-shared/audit';
import { DOCTOR, cleanupAll, makeWorkstation, startTestServer } from './helpers/harness';

afterAll(cleanupAll);

const refs = (n: number): string[] => Array.from({ length: n }, (_, i) => `Observation/obs-${i}`);
const read = (patientId: string, resourceRefs: string[], correlationId = randomUUID()): AuditEntryInput => ({
  action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-physician', role: 'physician', patientId, resourceRefs, correlationId,
});

describe('audit push at chart scale', () => {
  it('a chart read of 1,001 records is written as entries the server accepts, every record accounted for', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    const writer = new AuditWriter(ws.vault.audit);
    const correlationId = randomUUID();
    writer.record({ userId: 'u-physician', role: 'physician', correlationId }, { type: 'read', patientId: 'p-big', resourceRefs: refs(1001) });
    const status = await ws.engine.syncNow();
    expect(status.errorCode).toBeNull();
    expect(status.audit).toMatchObject({ pending: 0, rejected: null, quarantined: 0 });
    const rows = await server.db.query<{ entry: { resourceRefs: string[] } }>(
      'SELECT entry FROM device_audit WHERE device_id = $1 AND correlation_id = $2 ORDER BY seq', [ws.vault.device.deviceId, correlationId]);
    expect(rows).toHaveLength(11);
    const sent = rows.flatMap((r) => r.entry.resourceRefs);
    expect(sent).toEqual(refs(1001));
  });

  it('an entry the server would refuse is quarantined; the entries behind it flow and the chain stays whole', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    // What the old read path wrote: one entry naming 229 records (the server takes 100).
    ws.vault.audit.append(read('p-big', refs(229)));
    for (let i = 0; i < 5; i++) ws.vault.audit.append(read('p-small', refs(3)));
    const status = await ws.engine.syncNow();
    expect(status.errorCode).toBeNull();
    expect(status.state).toBe('idle');
    expect(status.audit).toMatchObject({ pending: 0, rejected: null, quarantined: 1 });
    expect(status.message).toMatch(/quarantined/);

    const rows = await server.db.query<{ seq: string; type: string; hash: string; prev_hash: string }>(
      'SELECT seq::text AS seq, type, hash, prev_hash FROM device_audit WHERE device_id = $1 ORDER BY seq', [ws.vault.device.deviceId]);
    const local = ws.vault.audit.list();
    // Gapless, and hash for hash the device's chain: the placeholder holds the real entry's place.
    expect(rows.map((r) => Number(r.seq))).toEqual(local.map((e) => e.seq));
    expect(rows.map((r) => r.hash)).toEqual(local.map((e) => e.hash));
    const big = local.find((e) => (e.resourceRefs ?? []).length === 229)!;
    expect(rows.find((r) => Number(r.seq) === big.seq)?.type).toBe('quarantined');
    expect(rows.filter((r) => r.type === 'read').length).toBe(local.length - 1);
    // The privacy officer is told; the full entry is still in the vault, and the local chain verifies.
    const alerts = await server.db.query<{ kind: string; detail: { seq: number } }>("SELECT kind, detail FROM alerts WHERE kind = 'audit-quarantined'");
    expect(alerts.map((a) => a.detail.seq)).toEqual([big.seq]);
    expect(ws.vault.audit.verify().ok).toBe(true);

    // Later entries keep flowing on the next cycle.
    ws.vault.audit.append(read('p-small', refs(2)));
    const again = await ws.engine.syncNow();
    expect(again.audit).toMatchObject({ pending: 0, rejected: null, quarantined: 1 });
  });

  it('a forged placeholder (a hash that is not the entry\'s) is refused as a fork or bad signature', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    ws.vault.audit.append(read('p-small', refs(1)));
    ws.vault.audit.append(read('p-small', refs(1)));
    const [a, b] = ws.vault.audit.nextPushBatch(10);
    const forged = { deviceId: a!.deviceId, seq: a!.seq, prevHash: a!.prevHash, hash: 'f'.repeat(64), at: new Date().toISOString(), quarantined: true as const, reason: 'schema' };
    await expect(ws.client.ingestAudit({ deviceId: a!.deviceId, entries: [forged, b!] })).rejects.toMatchObject({ code: ErrorCode.INTEGRITY, detail: { problem: 'fork' } });
    const none = await server.db.query('SELECT 1 FROM device_audit WHERE device_id = $1', [ws.vault.device.deviceId]);
    expect(none).toHaveLength(0);
  });

  it('an entry the server refuses on its own (passing the local schema) is found by halving the batch and quarantined', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    for (let i = 0; i < 9; i++) ws.vault.audit.append(read('p-small', refs(1)));
    const badSeq = 6;
    // A server with a rule this workstation does not know yet (version skew): it refuses seq 6's content.
    const realIngest = ws.client.ingestAudit.bind(ws.client);
    let calls = 0;
    ws.client.ingestAudit = async (req: AuditIngestRequest, opts) => {
      calls++;
      if (req.entries.some((e) => e.seq === badSeq && !('quarantined' in e))) throw new EhrError(ErrorCode.INVALID, 'The request does not match the protocol.');
      return realIngest(req, opts);
    };
    const status = await ws.engine.syncNow();
    expect(status.audit).toMatchObject({ pending: 0, rejected: null, quarantined: 1 });
    expect(calls).toBeGreaterThan(2);
    const rows = await server.db.query<{ seq: string; type: string }>('SELECT seq::text AS seq, type FROM device_audit WHERE device_id = $1 ORDER BY seq', [ws.vault.device.deviceId]);
    expect(rows.map((r) => Number(r.seq))).toEqual(ws.vault.audit.list().map((e) => e.seq));
    expect(rows.find((r) => Number(r.seq) === badSeq)?.type).toBe('quarantined');
  });
});
