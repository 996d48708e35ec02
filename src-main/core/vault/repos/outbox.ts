/**
 * The outbox: local changes waiting to be pushed, in order. Written in the same transaction as the
 * resource and its audit entry; the sync engine reads due rows, retries with backoff, and removes
 * a row once the server acknowledged its mutationId (pushes are idempotent by that id).
 */
import type { Db } from '../connection';

export type OutboxOp = 'create' | 'update' | 'delete';

/**
 * nextAttemptAt of a HELD row: kept (never dropped), counted in sync status, not pushed until
 * released. Every live row is due before HELD_FROM.
 */
export const OUTBOX_HELD_AT = new Date('9999-12-31T00:00:00.000Z');
export const OUTBOX_HELD_FROM = new Date('9000-01-01T00:00:00.000Z');

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
  const countHeld = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM outbox WHERE next_attempt_at >= ?');
  const heldRows = db.prepare<[string, number], Row>('SELECT * FROM outbox WHERE next_attempt_at >= ? ORDER BY seq LIMIT ?');
  const holdPatient = db.prepare('UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE patient_id = ? AND next_attempt_at < ?');
  const releasePatient = db.prepare('UPDATE outbox SET next_attempt_at = ?, last_error = NULL WHERE patient_id = ? AND last_error = ? AND next_attempt_at >= ?');

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
    /** Holds one row (an attempt that cannot succeed as things stand); `code` is a code, never a message. */
    hold(seq: number, code: string): void {
      attempt.run(OUTBOX_HELD_AT.toISOString(), `held:${code}`, seq);
    },
    /** Holds every live row of the patient (e.g. access to the patient ended); returns how many. */
    holdForPatient(patientId: string, code: string): number {
      return holdPatient.run(OUTBOX_HELD_AT.toISOString(), `held:${code}`, patientId, OUTBOX_HELD_FROM.toISOString()).changes;
    },
    /** Makes the patient's rows held with one of `codes` due again at `now` (e.g. access came back); returns how many. */
    releaseForPatient(patientId: string, codes: readonly string[], now: Date = new Date()): number {
      let n = 0;
      for (const code of codes) n += releasePatient.run(now.toISOString(), patientId, `held:${code}`, OUTBOX_HELD_FROM.toISOString()).changes;
      return n;
    },
    /** Held rows, oldest first. */
    held(limit = 1000): OutboxRow[] {
      return heldRows.all(OUTBOX_HELD_FROM.toISOString(), limit).map(toOutbox);
    },
    heldCount(): number {
      return (countHeld.get(OUTBOX_HELD_FROM.toISOString()) as { n: number }).n;
    },
    /** Rows not held, due or waiting for their backoff, in push order. */
    live(limit = 100): OutboxRow[] {
      return due.all(new Date(OUTBOX_HELD_FROM.getTime() - 1).toISOString(), limit).map(toOutbox);
    },
  };
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
