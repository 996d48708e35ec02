/**
 * Idempotent API calls: what each request id was used for (user, channel, a hash of the input) and
 * the answer it got. A handler writes the row in the same transaction as the data, so a retry finds
 * either the row (answer it again, write nothing) or no trace at all (nothing was written).
 */
import type { Db } from '../connection';

export interface ApiRequestRecord {
  requestId: string;
  userId: string;
  channel: string;
  /** SHA-256 of the canonical input: a retry must carry exactly the same request. */
  inputHash: string;
  /** The answer, JSON-serialisable; ids only. */
  result: unknown;
  createdAt: string;
}

interface Row { request_id: string; user_id: string; channel: string; input_hash: string; result: string; created_at: string }

export function createRequestRepository(db: Db) {
  const get = db.prepare<[string], Row>('SELECT * FROM api_requests WHERE request_id = ?');
  // A plain INSERT: a request id already used is a primary-key failure, never a silent overwrite.
  const insert = db.prepare('INSERT INTO api_requests (request_id, user_id, channel, input_hash, result, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const prune = db.prepare('DELETE FROM api_requests WHERE created_at < ?');
  return {
    get(requestId: string): ApiRequestRecord | null {
      const r = get.get(requestId);
      return r ? { requestId: r.request_id, userId: r.user_id, channel: r.channel, inputHash: r.input_hash, result: JSON.parse(r.result) as unknown, createdAt: r.created_at } : null;
    },
    insert(rec: ApiRequestRecord): void {
      insert.run(rec.requestId, rec.userId, rec.channel, rec.inputHash, JSON.stringify(rec.result), rec.createdAt);
    },
    /** Forgets answers older than `beforeIso` (a retry comes within minutes, not weeks). Returns how many. */
    pruneBefore(beforeIso: string): number {
      return prune.run(beforeIso).changes;
    },
  };
}
