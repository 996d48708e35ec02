/**
 * The outbox: local changes waiting to be pushed, in order. Written in the same transaction as the
 * resource and its audit entry; the sync engine reads due rows, retries with backoff, and removes
 * a row once the server acknowledged its mutationId (pushes are idempotent by that id).
 */
import type { Db } from '../connection';

export type OutboxOp = 'create' | 'update' | 'delete';

export interface OutboxInput {
  mutationId: string;
  recordId: string;
  patientId: string | null;
  resourceType: string;
  baseVersion: number;
  op: OutboxOp;
  /** JSON-serialisable payload (the resource, or what the sync engine needs to build the envelope). */
  payload: unknown;
}

export interface OutboxRow extends OutboxInput {
  seq: number;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
}

interface Row {
  seq: number; mutation_id: string; record_id: string; patient_id: string | null; resource_type: string; base_version: number;
  op: OutboxOp; payload: string; attempts: number; next_attempt_at: string; last_error: string | null; created_at: string;
}

const toOutbox = (r: Row): OutboxRow => ({
  seq: r.seq, mutationId: r.mutation_id, recordId: r.record_id, patientId: r.patient_id, resourceType: r.resource_type,
  baseVersion: r.base_version, op: r.op, payload: JSON.parse(r.payload) as unknown, attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at, lastError: r.last_error, createdAt: r.created_at,
});

export function createOutboxRepository(db: Db) {
  const insert = db.prepare(`
    INSERT INTO outbox (mutation_id, record_id, patient_id, resource_type, base_version, op, payload, next_attempt_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const due = db.prepare<[string, number], Row>('SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?');
  const all = db.prepare<[number], Row>('SELECT * FROM outbox ORDER BY seq LIMIT ?');
  const byMutation = db.prepare<[string], Row>('SELECT * FROM outbox WHERE mutation_id = ?');
  const attempt = db.prepare('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?');
  const remove = db.prepare('DELETE FROM outbox WHERE mutation_id = ?');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox');

  return {
    /** Returns the row's seq (its place in the push order). */
    enqueue(input: OutboxInput): number {
      const now = new Date().toISOString();
      const r = insert.run(input.mutationId, input.recordId, input.patientId, input.resourceType, input.baseVersion, input.op,
        JSON.stringify(input.payload ?? null), now, now);
      return Number(r.lastInsertRowid);
    },
    /** Rows whose next attempt is due at `now`, oldest first. */
    due(now: Date = new Date(), limit = 100): OutboxRow[] {
      return due.all(now.toISOString(), limit).map(toOutbox);
    },
    list(limit = 1000): OutboxRow[] {
      return all.all(limit).map(toOutbox);
    },
    get(mutationId: string): OutboxRow | null {
      const row = byMutation.get(mutationId);
      return row ? toOutbox(row) : null;
    },
    /** Records a failed attempt; `errorCode` is a code, never a server message. */
    recordAttempt(seq: number, nextAttemptAt: Date, errorCode: string | null = null): void {
      attempt.run(nextAttemptAt.toISOString(), errorCode, seq);
    },
    /** Acknowledged by the server (applied, duplicate, or resolved conflict). */
    remove(mutationId: string): boolean {
      return remove.run(mutationId).changes === 1;
    },
    count(): number {
      return (countAll.get() as { n: number }).n;
    },
  };
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
