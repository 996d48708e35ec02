/**
 * vault.purgePatient: when access to a patient ends, the cached chart goes in one transaction —
 * patients row, search tokens, resources (the other side of a conflict included) — while the
 * clinician's unsent work stays: drafts, outbox rows (held `access-ended`), and ours of a conflict
 * as a new held outbox row. Audit entries are never deleted. Also the listings the sync engine uses.
 */
import type { Observation } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { ACCESS_ENDED, ACCESS_HOLD_CODES, OUTBOX_HELD_AT, openVault, type Vault } from '../../src-main/core/vault';
import { CANARY, canaryPatient, dirContainsPlaintext, removeDir, tempDir } from './helpers';

const obs = (id: string, patientId: string, text: string): Observation & { id: string } => ({
  resourceType: 'Observation', id, status: 'final', code: { text: 'Note' }, subject: { reference: `Patient/${patientId}` }, valueString: text,
});

describe('purgePatient', () => {
  let dir: string;
  let vault: Vault;
  beforeEach(async () => {
    dir = tempDir();
    vault = await openVault({ dir, keyStore: createMemoryKeyStore() });
  });
  afterEach(() => {
    if (!vault.closed) vault.close();
    removeDir(dir);
  });

  it('removes the chart, keeps drafts, holds unsent work (ours of a conflict included), never touches the audit log', () => {
    const p = canaryPatient('pat-canary');
    const other = canaryPatient('pat-other');
    vault.transaction(() => {
      vault.patients.upsert(p);
      vault.patients.upsert({ ...other, mrn: 'OTHER-1', familyName: 'Otherfamily', givenNames: 'Olive' });
      vault.resources.put({ resource: { resourceType: 'Patient', id: p.id, name: [{ family: CANARY.family }] }, patientId: p.id, version: 1, status: 'synced' });
      vault.resources.put({ resource: obs('o-synced', p.id, `${CANARY.given} synced`), patientId: p.id, version: 2, status: 'synced' });
      vault.resources.put({ resource: obs('o-conflict', p.id, 'ours'), patientId: p.id, version: 3, status: 'synced' });
      vault.resources.markConflict('o-conflict', { version: 4, resource: obs('o-conflict', p.id, `${CANARY.family} theirs`), mine: { baseVersion: 3 } } as never);
      vault.resources.put({ resource: obs('o-pending', p.id, 'pending text'), patientId: p.id, version: 0, status: 'pending' });
      vault.outbox.enqueue({ mutationId: 'm-pending', recordId: 'o-pending', patientId: p.id, resourceType: 'Observation', baseVersion: 0, op: 'create', payload: obs('o-pending', p.id, 'pending text') });
      vault.resources.put({ resource: obs('o-other', other.id, 'kept'), patientId: other.id, version: 1, status: 'synced' });
      vault.drafts.save({ id: 'd-1', userId: 'u-1', patientId: p.id, content: { text: 'draft' } });
      vault.audit.append({ action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-1', role: 'nurse', patientId: p.id, correlationId: 'c-1' });
    });
    expect(vault.cachedPatientIds()).toEqual(['pat-canary', 'pat-other']);
    expect(vault.resources.countByStatus('conflict')).toBe(1);
    const audit = vault.audit.count();

    const report = vault.purgePatient(p.id);
    expect(report).toEqual({ patientId: p.id, patients: 1, resources: 4, heldMutations: 2 });
    expect(vault.patients.getById(p.id)).toBeNull();
    expect(vault.patients.search({ name: CANARY.family })).toEqual([]);
    expect(vault.patients.search({ mrn: p.mrn })).toEqual([]);
    expect(vault.resources.listByPatient(p.id)).toEqual([]);
    expect(vault.resources.get(p.id)).toBeNull();
    expect(vault.db.prepare('SELECT * FROM patient_name_tokens WHERE patient_id = ?').all(p.id)).toEqual([]);
    expect(vault.cachedPatientIds()).toEqual(['pat-other']);
    expect(vault.resources.get('o-other')).not.toBeNull();
    expect(vault.patients.search({ name: 'Otherfamily' }).map((x) => x.id)).toEqual(['pat-other']);
    // Unsent work: the queued row is held, ours of the conflict is a new held row based on our base version.
    expect(vault.outbox.get('m-pending')?.lastError).toBe(`held:${ACCESS_ENDED}`);
    const held = vault.outbox.held();
    expect(held.map((r) => [r.recordId, r.baseVersion, r.op])).toEqual([['o-pending', 0, 'create'], ['o-conflict', 3, 'update']]);
    expect(held.every((r) => r.nextAttemptAt === OUTBOX_HELD_AT.toISOString())).toBe(true);
    expect((held[1]!.payload as Observation).valueString).toBe('ours');
    expect(vault.outbox.heldCount()).toBe(2);
    expect(vault.outbox.live()).toEqual([]);
    expect(vault.drafts.get('d-1', 'u-1')?.content).toEqual({ text: 'draft' });
    expect(vault.audit.count()).toBe(audit);
    expect(vault.audit.verify().ok).toBe(true);
    // Access back: the held rows are due again, in their original order.
    expect(vault.outbox.releaseForPatient(p.id, ACCESS_HOLD_CODES)).toBe(2);
    expect(vault.outbox.live().map((r) => r.recordId)).toEqual(['o-pending', 'o-conflict']);
    // Purging again, or an unknown patient, is harmless.
    expect(vault.purgePatient('nobody')).toEqual({ patientId: 'nobody', patients: 0, resources: 0, heldMutations: 0 });
    // Nothing of the canary left in the file once checkpointed (its data pages were freed).
    vault.db.pragma('wal_checkpoint(TRUNCATE)');
    const rows = JSON.stringify(['patients', 'patient_name_tokens', 'resources', 'drafts', 'kv', 'data_keys'].map((t) => vault.db.prepare(`SELECT * FROM ${t}`).all()));
    expect(rows).not.toContain(CANARY.family);
    expect(rows).not.toContain(CANARY.given);
    vault.close();
    expect(dirContainsPlaintext(dir)).toEqual([]);
  });

  it('lists what the sync engine needs without SQL of its own', () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    vault.dataKeys.put({ patientId: 'p-b', keyId: 'k1', key: Buffer.alloc(32, 1), expiresAt: null });
    vault.dataKeys.put({ patientId: 'p-a', keyId: 'k1', key: Buffer.alloc(32, 2), expiresAt: '2000-01-01T00:00:00.000Z' });
    vault.dataKeys.put({ patientId: 'p-a', keyId: 'k2', key: Buffer.alloc(32, 3), expiresAt: later });
    expect(vault.dataKeys.patientIds()).toEqual(['p-a', 'p-b']);
    expect(vault.dataKeys.expiredPatientIds()).toEqual(['p-a']);
    expect(vault.dataKeys.count()).toBe(3);
    expect(vault.dataKeys.count('p-a')).toBe(2);
    vault.audit.append({ action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u', role: 'nurse', patientId: 'p-a', correlationId: 'c' });
    expect(vault.audit.unpushedCount()).toBe(1);
    vault.audit.markPushed(1);
    expect(vault.audit.unpushedCount()).toBe(0);
    const seq = vault.outbox.enqueue({ mutationId: 'm', recordId: 'r', patientId: 'p-a', resourceType: 'Observation', baseVersion: 0, op: 'create', payload: {} });
    expect(vault.outbox.heldCount()).toBe(0);
    vault.outbox.hold(seq, 'rejected:INVALID');
    expect(vault.outbox.held().map((r) => r.lastError)).toEqual(['held:rejected:INVALID']);
    // Only "no access" holds are released when access returns.
    expect(vault.outbox.releaseForPatient('p-a', ACCESS_HOLD_CODES)).toBe(0);
  });
});
