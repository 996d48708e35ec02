/**
 * Drafts: unfinished forms, per user, kept encrypted in the vault so they survive a lock.
 * Every read and delete is scoped by userId: one user can never load another's draft by id.
 */
import type { Db } from '../connection';

export interface DraftInput {
  id: string;
  userId: string;
  patientId?: string | null;
  resourceType?: string | null;
  /** Whatever the form holds (JSON-serialisable). */
  content: unknown;
}

export interface Draft extends Required<DraftInput> {
  updatedAt: string;
}

interface Row { id: string; user_id: string; patient_id: string | null; resource_type: string | null; json: string; updated_at: string }

const toDraft = (r: Row): Draft => ({
  id: r.id, userId: r.user_id, patientId: r.patient_id, resourceType: r.resource_type, content: JSON.parse(r.json) as unknown, updatedAt: r.updated_at,
});

export function createDraftRepository(db: Db) {
  // The WHERE on user_id makes an upsert of someone else's draft id a no-op instead of a takeover.
  const upsert = db.prepare(`
    INSERT INTO drafts (id, user_id, patient_id, resource_type, json, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET patient_id = excluded.patient_id, resource_type = excluded.resource_type,
      json = excluded.json, updated_at = excluded.updated_at WHERE drafts.user_id = excluded.user_id`);
  const get = db.prepare<[string, string], Row>('SELECT * FROM drafts WHERE id = ? AND user_id = ?');
  const listAll = db.prepare<[string], Row>('SELECT * FROM drafts WHERE user_id = ? ORDER BY updated_at DESC');
  const listPatient = db.prepare<[string, string], Row>('SELECT * FROM drafts WHERE user_id = ? AND patient_id = ? ORDER BY updated_at DESC');
  const del = db.prepare('DELETE FROM drafts WHERE id = ? AND user_id = ?');

  return {
    /** Returns the saved draft, or null when the id belongs to another user (nothing written). */
    save(input: DraftInput): Draft | null {
      upsert.run(input.id, input.userId, input.patientId ?? null, input.resourceType ?? null, JSON.stringify(input.content ?? null), new Date().toISOString());
      const row = get.get(input.id, input.userId);
      return row ? toDraft(row) : null;
    },
    get(id: string, userId: string): Draft | null {
      const row = get.get(id, userId);
      return row ? toDraft(row) : null;
    },
    listForUser(userId: string, patientId?: string): Draft[] {
      return (patientId ? listPatient.all(userId, patientId) : listAll.all(userId)).map(toDraft);
    },
    delete(id: string, userId: string): boolean {
      return del.run(id, userId).changes === 1;
    },
  };
}
