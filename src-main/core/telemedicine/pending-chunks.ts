/**
 * Sealed recording chunks the server has not acknowledged yet, in the vault (table
 * recording_chunks_pending, migration 6). A chunk is written here only as a sealed envelope (the
 * vault is encrypted too: two layers), so an offline workstation or a crash loses nothing that
 * `recordings.chunk` answered `stored: true` for. The sync loop sends them and deletes each on ack.
 */
import type { Envelope } from '../../../src-shared/node/envelope';
import { EnvelopeSchema } from '../../../src-shared/sync/envelope';
import type { Vault } from '../vault';

export interface PendingChunk {
  recordingId: string;
  seq: number;
  /** The user whose recording it is: only their server session may send it. */
  userId: string;
  envelope: Envelope;
}

/** A finish asked while chunks were still queued: sent once they all are. */
export interface PendingFinish {
  recordingId: string;
  userId: string;
  chunkCount: number;
}

interface ChunkRow { recording_id: string; seq: number; user_id: string; envelope: string }

export function pendingChunks(vault: Pick<Vault, 'db' | 'kv'>) {
  const FINISH_KEY = 'telemedicine.pendingFinish';
  return {
    put(c: PendingChunk): void {
      vault.db
        .prepare('INSERT INTO recording_chunks_pending (recording_id, seq, user_id, envelope, queued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(recording_id, seq) DO UPDATE SET envelope = excluded.envelope')
        .run(c.recordingId, c.seq, c.userId, JSON.stringify(c.envelope), new Date().toISOString());
    },
    delete(recordingId: string, seq: number): void {
      vault.db.prepare('DELETE FROM recording_chunks_pending WHERE recording_id = ? AND seq = ?').run(recordingId, seq);
    },
    /** The oldest first, for one user (rows that fail their schema are skipped, never sent). */
    list(userId: string, limit = 64): PendingChunk[] {
      const rows = vault.db
        .prepare<[string, number], ChunkRow>('SELECT recording_id, seq, user_id, envelope FROM recording_chunks_pending WHERE user_id = ? ORDER BY rowid LIMIT ?')
        .all(userId, limit);
      const out: PendingChunk[] = [];
      for (const r of rows) {
        const env = EnvelopeSchema.safeParse(JSON.parse(r.envelope));
        if (env.success) out.push({ recordingId: r.recording_id, seq: r.seq, userId: r.user_id, envelope: env.data as Envelope });
      }
      return out;
    },
    count(recordingId?: string): number {
      const row = recordingId
        ? vault.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM recording_chunks_pending WHERE recording_id = ?').get(recordingId)
        : vault.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM recording_chunks_pending').get();
      return row?.n ?? 0;
    },
    finishes(): PendingFinish[] {
      return vault.kv.getJson<PendingFinish[]>(FINISH_KEY) ?? [];
    },
    setFinishes(list: PendingFinish[]): void {
      vault.kv.setJson(FINISH_KEY, list);
    },
  };
}
export type PendingChunkStore = ReturnType<typeof pendingChunks>;
