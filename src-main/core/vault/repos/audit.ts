/**
 * The append-only audit log: each entry linked to the previous one by its hash, and the chain
 * signed by the device key at checkpoints (src-shared/node/audit-chain.ts). Triggers in the schema
 * refuse edits and deletes of entries and checkpoints; only the pushed flag moves, 0 -> 1, when the
 * server has accepted the entry.
 *
 * When a checkpoint is signed: at the end of every batch pushed to the server (`nextPushBatch`), on
 * `checkpoint()` (the vault signs one when it closes), and while appending, once the newest
 * checkpoint is CHECKPOINT_EVERY entries or CHECKPOINT_MAX_AGE_MS old. The last rule bounds how
 * much of the local tail is covered by the hashes alone, at one Ed25519 signature (~85 µs) per
 * thousand entries instead of one per entry.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditEntry, AuditEntryInput, ChainVerdict } from '../../../../src-shared/audit';
import { checkpointSignature, linkCanonical, verifyChain, type ChainHead } from '../../../../src-shared/node/audit-chain';
import type { Db } from '../connection';

export interface AuditDevice {
  deviceId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export const CHECKPOINT_EVERY = 1000;
export const CHECKPOINT_MAX_AGE_MS = 10_000;

interface EntryRow {
  entry: string;
  hash: string;
  signature: string | null;
}

/**
 * The stored entry, with its hash and, on a checkpoint, its signature. The entry column holds the
 * canonical JSON that was hashed (rows from before migration 2 hold the whole entry; both parse).
 */
function toEntry(row: EntryRow): AuditEntry {
  const entry = JSON.parse(row.entry) as AuditEntry;
  entry.hash = row.hash;
  if (row.signature) entry.signature = row.signature;
  return entry;
}

export function createAuditRepository(db: Db, device: AuditDevice, now: () => number = Date.now) {
  const insert = db.prepare('INSERT INTO audit_log (seq, hash, at, type, patient_id, entry) VALUES (?, ?, ?, ?, ?, ?)');
  const insertCheckpoint = db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, signature, signed_at) VALUES (?, ?, ?)');
  const headStmt = db.prepare<[], ChainHead>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM audit_log WHERE seq = ?');
  const lastCheckpoint = db.prepare<[], { seq: number; signed_at: string }>('SELECT seq, signed_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1');
  const withSignature = 'SELECT a.entry, a.hash, c.signature FROM audit_log a LEFT JOIN audit_checkpoints c ON c.seq = a.seq';
  const after = db.prepare<[number, number], EntryRow>(`${withSignature} WHERE a.seq > ? ORDER BY a.seq LIMIT ?`);
  const unpushed = db.prepare<[number], EntryRow>(`${withSignature} WHERE a.pushed = 0 ORDER BY a.seq LIMIT ?`);
  const all = db.prepare<[], EntryRow>(`${withSignature} ORDER BY a.seq`);
  const markPushed = db.prepare('UPDATE audit_log SET pushed = 1 WHERE seq <= ? AND pushed = 0');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log');
  const countUnpushed = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM audit_log WHERE pushed = 0');

  /** Signs the entry at `seq` as a checkpoint (Ed25519 is deterministic: signing twice gives the same row). */
  const sign = (seq: number, hash: string): string => {
    const signature = checkpointSignature(hash, device.privateKey);
    insertCheckpoint.run(seq, signature, new Date(now()).toISOString());
    return signature;
  };

  const checkpointDue = (head: ChainHead): boolean => {
    const last = lastCheckpoint.get();
    if (!last) return true;
    return head.seq - last.seq >= CHECKPOINT_EVERY || now() - Date.parse(last.signed_at) >= CHECKPOINT_MAX_AGE_MS;
  };

  // The head is read inside the same transaction as the insert (one primary-key lookup), so a
  // rolled-back outer vault.transaction can never leave a stale head and a forked chain behind.
  const appendAll = db.transaction((inputs: readonly AuditEntryInput[]): AuditEntry[] => {
    let head: ChainHead | null = headStmt.get() ?? null;
    const entries = inputs.map((input) => {
      const { entry, canonicalBody } = linkCanonical(head, device.deviceId, input);
      insert.run(entry.seq, entry.hash, entry.at, entry.type, entry.patientId ?? null, canonicalBody);
      head = { seq: entry.seq, hash: entry.hash };
      return entry;
    });
    const last = entries.at(-1);
    if (last && checkpointDue(last)) entries[entries.length - 1] = { ...last, signature: sign(last.seq, last.hash) };
    return entries;
  });

  const checkpointAt = db.transaction((seq: number): string | null => {
    const row = hashAt.get(seq);
    return row ? sign(seq, row.hash) : null;
  });

  return {
    /** Appends one entry (seq, prevHash, hash assigned here). Compose inside vault.transaction for "one write". */
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
    /**
     * Signs a checkpoint at `seq` (default: the newest entry), vouching for it and everything before.
     * Returns the signature, or null when there is no such entry.
     */
    checkpoint(seq?: number): string | null {
      const at = seq ?? headStmt.get()?.seq;
      return at === undefined ? null : checkpointAt(at);
    },
    list(opts: { afterSeq?: number; limit?: number } = {}): AuditEntry[] {
      return after.all(opts.afterSeq ?? 0, opts.limit ?? 1000).map(toEntry);
    },
    /** Entries not yet accepted by the server, in order (the newest may be unsigned). */
    listUnpushed(limit = 500): AuditEntry[] {
      return unpushed.all(limit).map(toEntry);
    },
    /** What the sync engine pushes: the oldest unpushed entries, the last one signed as a checkpoint. */
    nextPushBatch(limit = 500): AuditEntry[] {
      const batch = unpushed.all(limit).map(toEntry);
      const last = batch.at(-1);
      if (last && last.signature === undefined) batch[batch.length - 1] = { ...last, signature: checkpointAt(last.seq) as string };
      return batch;
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
    /** Verifies the whole local chain (links, hashes, every checkpoint) with this device's public key. */
    verify(): ChainVerdict {
      return verifyChain(all.all().map(toEntry), device.publicKey, { deviceId: device.deviceId, requireSignedEnd: false });
    },
  };
}
