/**
 * The append-only audit log: each entry linked to the previous one and signed by the device key
 * (src-shared/node/audit-chain.ts). Triggers in the schema refuse edits and deletes; only the
 * pushed flag moves, 0 -> 1, when the server has accepted the entry.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditEntry, AuditEntryInput, ChainVerdict } from '../../../../src-shared/audit';
import { linkEntry, verifyChain, type ChainHead } from '../../../../src-shared/node/audit-chain';
import type { Db } from '../connection';

export interface AuditDevice {
  deviceId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function createAuditRepository(db: Db, device: AuditDevice) {
  const insert = db.prepare(`INSERT INTO audit_log (seq, device_id, prev_hash, hash, signature, at, type, patient_id, entry)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const headStmt = db.prepare<[], ChainHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const after = db.prepare<[number, number], { entry: string }>('SELECT entry FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
  const unpushed = db.prepare<[number], { entry: string }>('SELECT entry FROM audit_log WHERE pushed = 0 ORDER BY seq LIMIT ?');
  const markPushed = db.prepare('UPDATE audit_log SET pushed = 1 WHERE seq <= ? AND pushed = 0');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log');
  const countUnpushed = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log WHERE pushed = 0');
  const all = db.prepare<[], { entry: string }>('SELECT entry FROM audit_log ORDER BY seq');

  // The head is read inside the same transaction as the insert (one primary-key lookup), so a
  // rolled-back outer vault.transaction can never leave a stale head and a forked chain behind.
  const appendAll = db.transaction((inputs: readonly AuditEntryInput[]): AuditEntry[] => {
    let head: ChainHead | null = headStmt.get() ?? null;
    return inputs.map((input) => {
      const entry = linkEntry(head, device.deviceId, input, device.privateKey);
      insert.run(entry.seq, entry.deviceId, entry.prevHash, entry.hash, entry.signature, entry.at, entry.type, entry.patientId ?? null, JSON.stringify(entry));
      head = { seq: entry.seq, hash: entry.hash };
      return entry;
    });
  });

  return {
    /** Appends one entry (seq, prevHash, hash, signature assigned here). Compose inside vault.transaction for "one write". */
    append(input: AuditEntryInput): AuditEntry {
      return appendAll([input])[0] as AuditEntry;
    },
    /** Appends many in one transaction (faster: one commit). */
    appendMany(inputs: readonly AuditEntryInput[]): AuditEntry[] {
      return appendAll(inputs);
    },
    head(): ChainHead | null {
      return headStmt.get() ?? null;
    },
    list(opts: { afterSeq?: number; limit?: number } = {}): AuditEntry[] {
      return after.all(opts.afterSeq ?? 0, opts.limit ?? 1000).map((r) => JSON.parse(r.entry) as AuditEntry);
    },
    /** Entries not yet accepted by the server, in order: what the sync engine pushes. */
    listUnpushed(limit = 500): AuditEntry[] {
      return unpushed.all(limit).map((r) => JSON.parse(r.entry) as AuditEntry);
    },
    /** The server accepted everything up to and including `seq`. */
    markPushed(uptoSeq: number): number {
      return markPushed.run(uptoSeq).changes;
    },
    count(): number {
      return (countAll.get() as { n: number }).n;
    },
    /** How many entries the server has not accepted yet. */
    unpushedCount(): number {
      return (countUnpushed.get() as { n: number }).n;
    },
    /** Verifies the whole local chain with this device's public key. */
    verify(): ChainVerdict {
      return verifyChain(all.all().map((r) => JSON.parse(r.entry) as AuditEntry), device.publicKey, { deviceId: device.deviceId });
    },
  };
}
export type AuditRepository = ReturnType<typeof createAuditRepository>;
