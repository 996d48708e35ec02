/**
 * Audit coverage and integrity: 10,000 mixed operations through the real API leave a hash-chained,
 * device-signed log that verifies end to end, maps to valid FHIR AuditEvents, and carries no PHI;
 * an edited, dropped, reordered or forked entry is detected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartResource } from '../../src-shared/api';
import type { AuditEntry } from '../../src-shared/audit';
import { hashEntry, linkEntry, verifyChain } from '../../src-shared/node/audit-chain';
import { toFhirAuditEvent } from '../../src-main/core/audit';
import { loadOrCreateDeviceSigningKey } from '../../src-main/core/keychain';
import { assertValidResource } from '../../src-main/core/vault/fhir-validate';
import { PASSWORD, containsCanary, createHarness, vitals, type Harness } from './harness';
import { mulberry32 } from '../../src-shared/prng';

const OPERATIONS = 10_000;
let h: Harness;
let entries: AuditEntry[];
const tally = new Map<string, number>();


beforeAll(async () => {
  h = await createHarness({ synchronous: 'NORMAL' });
  await h.login('phil');
  const rand = mulberry32(42);
  const saved: Array<{ id: string; version: number }> = [];
  const ops: Array<() => Promise<unknown>> = [
    // Reads go to a chart of fixed size; writes grow another one.
    () => h.call('patients.open', { patientId: 'p-canary' }),
    () => h.call('records.list', { patientId: 'p-canary' }),
    () => h.call('patients.search', { name: 'o' }),
    () => h.call('patients.open', { patientId: 'p-other' }), // denied
    async () => {
      const r = await h.call('records.save', { patientId: 'p-own', resource: vitals('p-own', 60 + Math.floor(rand() * 60)) });
      if (r.ok) saved.push({ id: r.value.id, version: r.value.version });
    },
    async () => {
      const s = saved.pop();
      if (!s) return;
      const stored = h.ws.vault.resources.get(s.id);
      const changed = { ...(stored?.resource as ChartResource), id: s.id, valueQuantity: { value: 150, unit: '/min' } } as ChartResource;
      await h.call('records.save', { patientId: 'p-own', baseVersion: s.version, resource: changed });
    },
    async () => {
      const s = saved.pop();
      if (s) await h.call('records.delete', { patientId: 'p-own', recordId: s.id, baseVersion: s.version });
    },
    () => h.call('print.chart', { patientId: 'p-canary' }),
    () => h.call('export.chart', { patientId: 'p-canary' }),
    async () => {
      h.ws.lockNow('screen-lock');
      await h.call('records.list', { patientId: 'p-canary' }); // LOCKED
      await h.call('auth.unlock', { password: PASSWORD });
    },
    async () => {
      await h.call('breakGlass.request', { patientId: 'p-other', reason: 'ETREAT', justification: 'Emergency in the waiting room, chart needed', password: PASSWORD });
      await h.call('records.list', { patientId: 'p-other' });
      await h.call('breakGlass.end', { patientId: 'p-other' });
    },
    async () => h.ws.recordKeyAccess('p-own', 'key-1'),
  ];
  const weights = [20, 15, 10, 5, 20, 8, 4, 4, 4, 4, 2, 4];
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < OPERATIONS; i++) {
    let pick = rand() * total;
    let k = 0;
    while (pick >= (weights[k] as number)) pick -= weights[k++] as number;
    await (ops[k] as () => Promise<unknown>)();
    h.clock.advance(1000);
  }
  entries = h.ws.vault.audit.list({ limit: 1_000_000 });
  for (const e of entries) tally.set(e.type, (tally.get(e.type) ?? 0) + 1);
}, 240_000);
afterAll(async () => h?.close());

describe('after 10,000 mixed operations', () => {
  it('every kind of access was recorded', () => {
    expect(entries.length).toBeGreaterThanOrEqual(OPERATIONS);
    for (const t of ['login', 'lock', 'unlock', 'read', 'search', 'create', 'update', 'delete', 'print', 'export', 'break-glass-start', 'break-glass-end', 'key-access', 'access-denied']) {
      expect(tally.get(t) ?? 0, t).toBeGreaterThan(0);
    }
  });

  it('the whole chain verifies with the device public key (as the server will, once a checkpoint ends it)', () => {
    // Checkpoints were signed along the way (every 1,000 entries or 10 s), not on every entry.
    const signed = entries.filter((e) => e.signature !== undefined).length;
    expect(signed).toBeGreaterThanOrEqual(Math.floor(entries.length / 1000));
    expect(signed).toBeLessThan(entries.length);
    const pem = h.ws.vault.device.publicKeyPem;
    expect(verifyChain(entries, pem, { deviceId: h.ws.deviceId, requireSignedEnd: false })).toMatchObject({ ok: true, count: entries.length });
    expect(h.ws.vault.audit.verify().ok).toBe(true);
    // What a push sends: the same entries ending in a checkpoint — that is what the server verifies.
    const batch = h.ws.vault.audit.nextPushBatch(entries.length);
    expect(batch.at(-1)?.signature).toEqual(expect.any(String));
    expect(verifyChain(batch, pem, { deviceId: h.ws.deviceId })).toMatchObject({ ok: true, count: entries.length });
  });

  it('search writes one entry per patient returned (IHE BALP)', async () => {
    const mark = h.mark();
    const found = await h.ok('patients.search', { name: 'o' });
    const logged = h.since(mark);
    expect(found.length).toBeGreaterThan(1);
    expect(logged.map((e) => e.patientId)).toEqual(found.map((p) => p.id));
    expect(new Set(logged.map((e) => e.correlationId)).size).toBe(1);
  });

  it('no PHI in any entry; writes carry before/after hashes, never content', () => {
    for (const e of entries) expect(containsCanary(e)).toBeNull();
    const update = entries.find((e) => e.type === 'update');
    expect(update?.beforeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(update?.afterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(update?.beforeHash).not.toBe(update?.afterHash);
    const del = entries.find((e) => e.type === 'delete');
    expect(del?.beforeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(del?.afterHash).toBeNull();
  });

  it('maps to valid FHIR R4 AuditEvents (BALP / DICOM codes)', () => {
    const oneOfEach = new Map<string, AuditEntry>();
    for (const e of entries) if (!oneOfEach.has(e.type)) oneOfEach.set(e.type, e);
    for (const e of oneOfEach.values()) {
      const ae = toFhirAuditEvent(e);
      expect(() => assertValidResource(ae), e.type).not.toThrow();
      expect(ae.action).toBe(e.action);
      if (e.patientId) expect(ae.entity?.[0]?.what?.reference).toBe(`Patient/${e.patientId}`);
    }
    const start = toFhirAuditEvent(oneOfEach.get('break-glass-start') as AuditEntry);
    expect(start.subtype?.[0]?.code).toBe('110127');
    expect(start.purposeOfEvent?.[0]?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' });
    expect(toFhirAuditEvent(oneOfEach.get('break-glass-end') as AuditEntry).subtype?.[0]?.code).toBe('110138');
    expect(toFhirAuditEvent(oneOfEach.get('login') as AuditEntry).type.code).toBe('110114');
    expect(toFhirAuditEvent(oneOfEach.get('read') as AuditEntry).subtype?.[0]?.code).toBe('read');
    expect(toFhirAuditEvent(oneOfEach.get('access-denied') as AuditEntry).outcome).toBe('4');
  });
});

describe('tampering is detected', () => {
  const publicKey = () => h.ws.vault.device.publicKeyPem;
  const k = 5000;

  it('an edited entry (even with its hash recomputed, its successor no longer hangs from it)', () => {
    const edited = entries.map((e) => ({ ...e }));
    (edited[k] as AuditEntry).patientId = 'p-someone-else';
    expect(verifyChain(edited, publicKey(), { requireSignedEnd: false })).toMatchObject({ ok: false, problem: 'edit', seq: k + 1 });
    (edited[k] as AuditEntry).hash = hashEntry(edited[k] as AuditEntry);
    const v = verifyChain(edited, publicKey(), { requireSignedEnd: false });
    // A checkpoint on the entry itself fails its signature; otherwise the next entry shows the fork.
    expect(v).toMatchObject({ ok: false, problem: edited[k]!.signature ? 'signature' : 'fork', seq: edited[k]!.signature ? k + 1 : k + 2 });
  });

  it('a dropped entry', () => {
    const dropped = entries.filter((_, i) => i !== k);
    expect(verifyChain(dropped, publicKey())).toMatchObject({ ok: false, problem: 'gap', seq: k + 2 });
  });

  it('reordered entries', () => {
    const swapped = [...entries];
    [swapped[k], swapped[k + 1]] = [swapped[k + 1] as AuditEntry, swapped[k] as AuditEntry];
    expect(verifyChain(swapped, publicKey())).toMatchObject({ ok: false, problem: 'gap' });
    const moved = [...entries.slice(0, k), entries[k + 1] as AuditEntry, entries[k] as AuditEntry, ...entries.slice(k + 2)];
    const v = verifyChain(moved, publicKey());
    expect(v.ok).toBe(false);
  });

  it('a fork: a validly signed entry with the right seq hanging from another history', async () => {
    const device = await loadOrCreateDeviceSigningKey(h.keyStore);
    const prev = entries[k - 1] as AuditEntry;
    const forged = linkEntry({ seq: prev.seq, hash: 'f'.repeat(64) }, h.ws.deviceId, { ...(entries[k] as AuditEntry) }, device.privateKey);
    const forked = [...entries.slice(0, k), forged, ...entries.slice(k + 1)];
    expect(verifyChain(forked, publicKey())).toMatchObject({ ok: false, problem: 'fork', seq: k + 1 });
  });

  it('the vault refuses to edit or delete its log; audit.verify reports ok to the privacy officer', async () => {
    expect(() => h.ws.vault.db.prepare('UPDATE audit_log SET entry = ? WHERE seq = 1').run('{}')).toThrow(/append-only/);
    expect(() => h.ws.vault.db.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(/append-only/);
    await h.ok('auth.switchUser', {});
    await h.login('pat');
    expect(await h.ok('audit.verify', {})).toMatchObject({ ok: true });
    const page = await h.ok('audit.list', { type: 'break-glass-start', limit: 3 });
    expect(page.every((e) => e.type === 'break-glass-start' && e.severity === 'high')).toBe(true);
  });
});
