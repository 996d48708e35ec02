/**
 * The vault's audit log signs checkpoints, not every entry: when it signs, that a pushed batch
 * always ends signed, that checkpoints are as append-only as entries, and that a vault written
 * before checkpoints (every entry signed) migrates with its chain and signatures intact.
 */
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import type { AuditEntryInput } from '../../src-shared/audit';
import { linkEntry, verifyChain } from '../../src-shared/node/audit-chain';
import { MIGRATIONS, migrate } from '../../src-main/core/vault/migrations';
import { CHECKPOINT_EVERY, CHECKPOINT_MAX_AGE_MS, createAuditRepository } from '../../src-main/core/vault/repos/audit';

const device = { deviceId: 'dev-cp', ...generateKeyPairSync('ed25519') };

const input = (n: number): AuditEntryInput => ({
  action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'user-1', role: 'nurse', patientId: `pat-${n % 7}`,
  resourceRefs: [`Observation/obs-${n}`], correlationId: `corr-${randomUUID()}`,
});

function freshLog(clock = { t: Date.parse('2026-11-25T08:00:00Z') }) {
  const db = new Database(':memory:');
  migrate(db);
  return { db, clock, audit: createAuditRepository(db, device, () => clock.t) };
}

const signedSeqs = (db: Database.Database) => db.prepare<[], { seq: number }>('SELECT seq FROM audit_checkpoints ORDER BY seq').all().map((r) => r.seq);

describe('when the vault signs a checkpoint', () => {
  it('the first entry, then every CHECKPOINT_EVERY entries while appending one at a time', () => {
    const { db, audit } = freshLog();
    for (let i = 0; i < 2 * CHECKPOINT_EVERY + 5; i++) audit.append(input(i));
    expect(signedSeqs(db)).toEqual([1, 1 + CHECKPOINT_EVERY, 1 + 2 * CHECKPOINT_EVERY]);
    expect(audit.verify()).toMatchObject({ ok: true, count: 2 * CHECKPOINT_EVERY + 5 });
  });

  it('after CHECKPOINT_MAX_AGE_MS, even if few entries were written', () => {
    const { db, audit, clock } = freshLog();
    audit.append(input(0));
    audit.append(input(1));
    clock.t += CHECKPOINT_MAX_AGE_MS - 1;
    audit.append(input(2));
    expect(signedSeqs(db)).toEqual([1]);
    clock.t += 1;
    const fourth = audit.append(input(3));
    expect(signedSeqs(db)).toEqual([1, 4]);
    expect(fourth.signature).toEqual(expect.any(String));
  });

  it('at the end of every batch a push sends, so the server can verify it; signing twice changes nothing', () => {
    const { db, audit } = freshLog();
    audit.appendMany(Array.from({ length: 120 }, (_, i) => input(i)));
    const batch = audit.nextPushBatch(50);
    expect(batch).toHaveLength(50);
    expect(batch.at(-1)?.signature).toEqual(expect.any(String));
    expect(verifyChain(batch, device.publicKey, { deviceId: device.deviceId })).toMatchObject({ ok: true, lastSeq: 50 });
    // The same batch asked again (a retry after a lost answer) is byte-identical.
    expect(audit.nextPushBatch(50)).toEqual(batch);
    audit.markPushed(50);
    const rest = audit.nextPushBatch(500);
    expect(rest.map((e) => e.seq)).toEqual(Array.from({ length: 70 }, (_, i) => 51 + i));
    expect(verifyChain(rest, device.publicKey, { after: { seq: 50, hash: batch[49]!.hash }, deviceId: device.deviceId }).ok).toBe(true);
    // appendMany signed its last entry (the first checkpoint of this log); the push added seq 50.
    expect(signedSeqs(db)).toEqual([50, 120]);
  });

  it('a checkpoint is append-only like the entries it signs', () => {
    const { db, audit } = freshLog();
    audit.append(input(0));
    expect(() => db.prepare("UPDATE audit_checkpoints SET signature = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/append-only/);
  });

  it('a forged checkpoint in the local log shows up in verify', () => {
    const { db, audit } = freshLog();
    audit.appendMany(Array.from({ length: 5 }, (_, i) => input(i)));
    const stranger = generateKeyPairSync('ed25519');
    createAuditRepository(db, { ...device, privateKey: stranger.privateKey }).checkpoint(3);
    expect(audit.verify()).toMatchObject({ ok: false, problem: 'signature', seq: 3 });
  });
});

describe('what a row holds', () => {
  it('the canonical JSON that was hashed: sha256(prevHash ‖ entry column) is the hash column', () => {
    const { db, audit } = freshLog();
    audit.appendMany(Array.from({ length: 20 }, (_, i) => input(i)));
    const rows = db.prepare<[], { seq: number; hash: string; entry: string }>('SELECT seq, hash, entry FROM audit_log ORDER BY seq').all();
    let prevHash = '0'.repeat(64);
    for (const row of rows) {
      expect(createHash('sha256').update(prevHash).update(row.entry).digest('hex')).toBe(row.hash);
      expect(JSON.parse(row.entry)).toMatchObject({ seq: row.seq, prevHash, deviceId: device.deviceId });
      prevHash = row.hash;
    }
    expect(audit.list({ limit: 100 }).map((e) => e.hash)).toEqual(rows.map((r) => r.hash));
  });
});

describe('migrating a vault written before checkpoints', () => {
  it('keeps every entry and its per-entry signature, which now count as checkpoints', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.slice(0, 1));
    const insert = db.prepare(`INSERT INTO audit_log (seq, device_id, prev_hash, hash, signature, at, type, patient_id, entry, pushed)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    let head: { seq: number; hash: string } | null = null;
    const old = [];
    for (let i = 0; i < 30; i++) {
      const e = linkEntry(head, device.deviceId, input(i), device.privateKey);
      insert.run(e.seq, e.deviceId, e.prevHash, e.hash, e.signature, e.at, e.type, e.patientId ?? null, JSON.stringify(e), i < 10 ? 1 : 0);
      old.push(e);
      head = { seq: e.seq, hash: e.hash };
    }
    expect(migrate(db)).toBe(MIGRATIONS.at(-1)!.version);
    const audit = createAuditRepository(db, device);
    expect(audit.list({ limit: 100 })).toEqual(old);
    expect(audit.unpushedCount()).toBe(20);
    expect(audit.verify()).toMatchObject({ ok: true, count: 30 });
    // New entries continue the same chain, and the triggers came back with the rebuilt table.
    audit.append(input(30));
    expect(audit.verify()).toMatchObject({ ok: true, count: 31 });
    expect(() => db.prepare("UPDATE audit_log SET entry = '{}' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(() => db.prepare('UPDATE audit_log SET pushed = 0 WHERE seq = 1').run()).toThrow(/append-only/);
  });
});
