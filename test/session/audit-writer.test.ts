import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditEntryInput } from '../../src-shared/audit';
import { AuditWriter, auditedDataKeys, recordHash } from '../../src-main/core/audit';
import type { DataKeyService } from '../../src-main/core/crypto/data-keys';

function memorySink() {
  const entries: AuditEntryInput[] = [];
  return {
    entries,
    append(input: AuditEntryInput): AuditEntry {
      entries.push(input);
      return { ...input, at: input.at ?? '', deviceId: 'd', seq: entries.length, prevHash: '', hash: '', signature: '' };
    },
  };
}
const actor = { userId: 'u1', role: 'nurse', correlationId: 'c-1' };

describe('AuditWriter', () => {
  it('derives action and severity from the type: break-glass high, refusals medium, reads info', () => {
    const sink = memorySink();
    const w = new AuditWriter(sink, () => Date.UTC(2026, 0, 1));
    w.record(actor, { type: 'break-glass-start', patientId: 'p1', reasonCode: 'ETREAT' });
    w.record(actor, { type: 'access-denied', outcome: 'denied', patientId: 'p2' });
    w.record(actor, { type: 'read', patientId: 'p1' });
    w.record(actor, { type: 'create', patientId: 'p1' });
    expect(sink.entries.map((e) => [e.type, e.action, e.severity])).toEqual([
      ['break-glass-start', 'E', 'high'],
      ['access-denied', 'E', 'medium'],
      ['read', 'R', 'info'],
      ['create', 'C', 'info'],
    ]);
    expect(sink.entries[0]?.at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('a search with no result still leaves one entry; with results, one per patient', () => {
    const sink = memorySink();
    const w = new AuditWriter(sink);
    w.searchResults(actor, []);
    w.searchResults(actor, ['a', 'b']);
    expect(sink.entries.map((e) => e.patientId)).toEqual([null, 'a', 'b']);
  });

  it('record hashes do not depend on key order and change with content', () => {
    expect(recordHash({ a: 1, b: 2 })).toBe(recordHash({ b: 2, a: 1 }));
    expect(recordHash({ a: 1 })).not.toBe(recordHash({ a: 2 }));
  });
});

describe('data-key access auditing', () => {
  it('records the first use of each patient key once, sealing or opening', async () => {
    const key = (patientId: string, keyId: string) => ({ patientId, keyId, key: Buffer.alloc(32), expiresAt: null });
    const base = {
      sealingKey: async (p: string) => key(p, `k-${p}`),
      openingKey: async (p: string, k: string) => key(p, k),
    } as unknown as DataKeyService;
    const seen: string[] = [];
    const keys = auditedDataKeys(base, (p, k) => seen.push(`${p}/${k}`));
    await keys.sealingKey('p1');
    await keys.openingKey('p1', 'k-p1');
    await keys.openingKey('p1', 'k-old');
    await keys.openingKey('p2', 'k-p2');
    await keys.sealingKey('p2');
    expect(seen).toEqual(['p1/k-p1', 'p1/k-old', 'p2/k-p2']);
  });
});
