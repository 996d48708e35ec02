/** Resolving a kept conflict: keep mine / keep theirs / merged, each audited; unknown ids and foreign merges refused. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openVault, type Vault } from '../../src-main/core/vault';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { listConflicts, resolveConflict } from '../../src-main/core/sync/conflicts';
import { applyServerRecord } from '../../src-main/core/sync/records';
import { cleanupAll, note, tempDir } from './helpers/harness';

afterAll(cleanupAll);

const meta = { authorUserId: 'u-other', deviceId: 'dev-other', at: '2026-11-25T10:00:00.000Z', deleted: false };

describe('conflict resolution', () => {
  let vault: Vault;
  beforeEach(async () => {
    vault = await openVault({ dir: tempDir('conflicts'), keyStore: createMemoryKeyStore() });
    vault.resources.put({ resource: note('rec-1', 'p-1', 'mine'), patientId: 'p-1', version: 4, status: 'pending' });
    vault.resources.markConflict('rec-1', { version: 5, resource: note('rec-1', 'p-1', 'theirs'), meta } as never);
    return () => vault.close();
  });

  it('lists both sides with author, device and time', () => {
    const [c] = listConflicts(vault);
    expect(c).toMatchObject({ conflictId: 'rec-1', patientId: 'p-1', localVersion: 4, serverVersion: 5, theirs: { authorUserId: 'u-other', deviceId: 'dev-other', at: meta.at } });
    expect((c!.mine.resource as { valueString: string }).valueString).toBe('mine');
  });

  it('keep mine: a new version based on theirs, queued, audited', () => {
    const r = resolveConflict({ vault, userId: 'u-me', role: 'nurse' }, 'rec-1', 'local');
    expect(r.mutationId).toBeTruthy();
    const [row] = vault.outbox.list();
    expect(row).toMatchObject({ mutationId: r.mutationId, recordId: 'rec-1', baseVersion: 5, op: 'update' });
    expect((row!.payload as { valueString: string }).valueString).toBe('mine');
    expect(vault.resources.get('rec-1')).toMatchObject({ status: 'pending', version: 5 });
    expect(vault.resources.getConflict('rec-1')).toBeNull();
    const audit = vault.audit.list().at(-1)!;
    expect(audit).toMatchObject({ type: 'conflict-resolved', userId: 'u-me', reasonCode: 'keep-local', resourceRefs: ['Observation/rec-1'] });
    expect(JSON.stringify(audit)).not.toContain('mine');
    expect(listConflicts(vault)).toEqual([]);
  });

  it('keep theirs: their version becomes ours, nothing to send', () => {
    const r = resolveConflict({ vault, userId: 'u-me' }, 'rec-1', 'server');
    expect(r.mutationId).toBeNull();
    expect(vault.outbox.count()).toBe(0);
    const rec = vault.resources.get('rec-1')!;
    expect(rec).toMatchObject({ status: 'synced', version: 5 });
    expect((rec.resource as { valueString: string }).valueString).toBe('theirs');
  });

  it('refuses an unknown conflict and a merge that is another record, changing nothing', () => {
    expect(() => resolveConflict({ vault, userId: 'u-me' }, 'rec-x', 'local')).toThrow(/no open conflict/);
    expect(() => resolveConflict({ vault, userId: 'u-me' }, 'rec-1', { merged: note('rec-2', 'p-1', 'x') })).toThrow(/same record/);
    expect(vault.outbox.count()).toBe(0);
    expect(listConflicts(vault)).toHaveLength(1);
  });
});

describe('pulled versions never overwrite local work', () => {
  let vault: Vault;
  beforeEach(async () => {
    vault = await openVault({ dir: tempDir('apply'), keyStore: createMemoryKeyStore() });
    return () => vault.close();
  });
  const env = (recordId: string, version: number) =>
    ({ v: 1, recordId, patientId: 'p-1', resourceType: 'Observation', version, keyId: 'k', nonce: '', ct: '', tag: '' }) as const;

  it('stores newer versions, skips older ones, keeps pending edits, refreshes the server side of a conflict', () => {
    vault.transaction(() => {
      expect(applyServerRecord(vault, env('a', 2), meta, note('a', 'p-1', 'server v2'))).toBe('stored');
      expect(applyServerRecord(vault, env('a', 1), meta, note('a', 'p-1', 'server v1'))).toBe('older');
    });
    expect(vault.resources.get('a')).toMatchObject({ version: 2, status: 'synced' });

    vault.resources.put({ resource: note('b', 'p-1', 'my unsent edit'), patientId: 'p-1', version: 1, status: 'pending' });
    expect(vault.transaction(() => applyServerRecord(vault, env('b', 2), meta, note('b', 'p-1', 'theirs')))).toBe('kept-local');
    expect((vault.resources.get('b')!.resource as { valueString: string }).valueString).toBe('my unsent edit');

    // rec-c is in conflict at server v5; a newer server v6 replaces the server side only.
    vault.resources.put({ resource: note('c', 'p-1', 'mine'), patientId: 'p-1', version: 4, status: 'pending' });
    vault.resources.markConflict('c', { version: 5, resource: note('c', 'p-1', 'theirs v5'), meta } as never);
    expect(vault.transaction(() => applyServerRecord(vault, env('c', 6), meta, note('c', 'p-1', 'theirs v6')))).toBe('conflict-updated');
    const [c] = listConflicts(vault);
    expect(c).toMatchObject({ recordId: 'c', serverVersion: 6 });
    expect((c!.theirs.resource as { valueString: string }).valueString).toBe('theirs v6');
    expect((c!.mine.resource as { valueString: string }).valueString).toBe('mine');
  });
});
