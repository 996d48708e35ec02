/**
 * review_dispositions: the privacy officer's decisions on review items, append-only (a trigger and
 * the application role's grants refuse UPDATE and DELETE): a later decision is a new row.
 */
import type { DispositionRecord } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export interface DispositionRow {
  id: string;
  subject: string;
  subject_id: string;
  disposition: DispositionRecord['disposition'];
  note_sealed: string;
  reviewer_id: string;
  at: Date;
}

/**
 * Takes the next row id before the insert: the id is bound into the sealed note's AAD, and a row
 * is never updated, so it cannot be added afterwards.
 */
export async function nextId(sql: Sql): Promise<string> {
  const [row] = await sql.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('review_dispositions', 'id'))::text AS id");
  return row!.id;
}

export interface NewDisposition {
  id: string;
  subject: string;
  subjectId: string;
  disposition: DispositionRecord['disposition'];
  noteSealed: string;
  reviewerId: string;
  patientId: string | null;
}

export async function insert(sql: Sql, d: NewDisposition): Promise<void> {
  await sql.query(
    'INSERT INTO review_dispositions (id, subject, subject_id, disposition, note_sealed, reviewer_id, patient_id) VALUES ($1::bigint, $2, $3, $4, $5, $6, $7)',
    [d.id, d.subject, d.subjectId, d.disposition, d.noteSealed, d.reviewerId, d.patientId],
  );
}

/** Every disposition of these subject ids, oldest first. */
export async function ofSubjects(sql: Sql, subjectIds: readonly string[]): Promise<DispositionRow[]> {
  return sql.query<DispositionRow>(
    'SELECT id::text AS id, subject, subject_id, disposition, note_sealed, reviewer_id, at FROM review_dispositions WHERE subject_id = ANY($1::text[]) ORDER BY id',
    [[...subjectIds]],
  );
}
