/**
 * Patients: demographics plus a search index (normalised name tokens, MRN, date of birth), all
 * inside the encrypted database. Search by name prefix is case- and accent-insensitive: every
 * query token must be a prefix of one of the patient's name tokens.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Db } from '../connection';
import { invalidRecord } from '../errors';
import { nameTokens, normalizeMrn, prefixUpperBound, queryTokens } from '../normalize';

export interface PatientInput {
  id: string;
  mrn: string;
  givenNames: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  gender?: string | null;
  /** A restricted record needs break-glass even for the care team (decided by the access area). */
  restricted?: boolean;
  version?: number;
  /** The full FHIR Patient, when the caller has one. */
  resource?: Patient | null;
}

export interface PatientRecord extends Required<Omit<PatientInput, 'resource'>> {
  resource: Patient | null;
  updatedAt: string;
}

export interface PatientSearch {
  /** Name prefix(es), e.g. "zeb can". */
  name?: string;
  mrn?: string;
  birthDate?: string;
  limit?: number;
}

interface Row {
  id: string; mrn: string; given_names: string; family_name: string; birth_date: string; gender: string | null;
  restricted: number; version: number; json: string | null; updated_at: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_LIMIT = 200;

function toRecord(r: Row): PatientRecord {
  return {
    id: r.id, mrn: r.mrn, givenNames: r.given_names, familyName: r.family_name, birthDate: r.birth_date,
    gender: r.gender, restricted: r.restricted === 1, version: r.version,
    resource: r.json ? (JSON.parse(r.json) as Patient) : null, updatedAt: r.updated_at,
  };
}

/** Demographics from a FHIR Patient: first official (or first) name, identifier marked as MRN (or first). */
export function patientInputFromFhir(p: Patient & { id: string }, version = 0): PatientInput {
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const mrn = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value ?? p.identifier?.[0]?.value;
  if (!mrn || !name?.family || !p.birthDate) throw invalidRecord('patient', { id: p.id, missing: !mrn ? 'mrn' : !name?.family ? 'name' : 'birthDate' });
  return { id: p.id, mrn, givenNames: (name.given ?? []).join(' '), familyName: name.family, birthDate: p.birthDate, gender: p.gender ?? null, version, resource: p };
}

export function createPatientRepository(db: Db) {
  const upsertRow = db.prepare(`
    INSERT INTO patients (id, mrn, mrn_norm, given_names, family_name, birth_date, gender, restricted, version, json, updated_at)
    VALUES (@id, @mrn, @mrnNorm, @givenNames, @familyName, @birthDate, @gender, @restricted, @version, @json, @updatedAt)
    ON CONFLICT(id) DO UPDATE SET mrn = excluded.mrn, mrn_norm = excluded.mrn_norm, given_names = excluded.given_names,
      family_name = excluded.family_name, birth_date = excluded.birth_date, gender = excluded.gender,
      restricted = excluded.restricted, version = excluded.version, json = excluded.json, updated_at = excluded.updated_at`);
  const clearTokens = db.prepare('DELETE FROM patient_name_tokens WHERE patient_id = ?');
  const addToken = db.prepare('INSERT OR IGNORE INTO patient_name_tokens (token, patient_id) VALUES (?, ?)');
  const byId = db.prepare<[string], Row>('SELECT * FROM patients WHERE id = ?');
  const byMrn = db.prepare<[string], Row>('SELECT * FROM patients WHERE mrn_norm = ?');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM patients');
  const delRow = db.prepare('DELETE FROM patients WHERE id = ?');
  const allIds = db.prepare<[], { id: string }>('SELECT id FROM patients ORDER BY id');
  /** Search statements by shape (number of name tokens, MRN given, DOB given), prepared once each. */
  const searchCache = new Map<string, ReturnType<typeof db.prepare<unknown[], Row>>>();

  /**
   * Name-only queries walk the most selective query token's range in the token index (contiguous in
   * the WITHOUT ROWID table), check the other tokens per candidate through (patient_id, token), and
   * stop at the limit: the cost is bounded by the limit, not by how many patients share a prefix.
   * So a broad query returns the first `limit` matches in name-token order (the UI asks the user to
   * refine when the limit is hit), shown sorted by family and given name.
   * With an MRN or a date of birth, those (selective, indexed) drive the query instead.
   */
  function searchStatement(tokenCount: number, withMrn: boolean, withDob: boolean) {
    const key = `${tokenCount}:${withMrn}:${withDob}`;
    let stmt = searchCache.get(key);
    if (stmt) return stmt;
    if (!withMrn && !withDob) {
      const others = Array.from({ length: Math.max(0, tokenCount - 1) },
        () => 'AND EXISTS (SELECT 1 FROM patient_name_tokens t2 WHERE t2.patient_id = t.patient_id AND t2.token >= ? AND t2.token < ?)');
      stmt = db.prepare<unknown[], Row>(`
        SELECT p.* FROM (
          SELECT DISTINCT t.patient_id AS id FROM patient_name_tokens t
          WHERE t.token >= ? AND t.token < ? ${others.join(' ')}
          LIMIT ?
        ) m JOIN patients p ON p.id = m.id ORDER BY p.family_name, p.given_names, p.id`);
    } else {
      const where: string[] = [];
      for (let i = 0; i < tokenCount; i++) where.push('p.id IN (SELECT patient_id FROM patient_name_tokens WHERE token >= ? AND token < ?)');
      if (withMrn) where.push('p.mrn_norm = ?');
      if (withDob) where.push('p.birth_date = ?');
      stmt = db.prepare<unknown[], Row>(`SELECT p.* FROM patients p WHERE ${where.join(' AND ')} ORDER BY p.family_name, p.given_names, p.id LIMIT ?`);
    }
    searchCache.set(key, stmt);
    return stmt;
  }

  return {
    /** Inserts or replaces a patient and its search tokens (call inside vault.transaction with related writes). */
    upsert(input: PatientInput): PatientRecord {
      if (!input.id || !input.mrn.trim() || !input.familyName.trim()) throw invalidRecord('patient', { id: input.id ?? null });
      if (!DATE.test(input.birthDate)) throw invalidRecord('patient', { id: input.id, field: 'birthDate' });
      const updatedAt = new Date().toISOString();
      db.transaction(() => {
        upsertRow.run({
          id: input.id, mrn: input.mrn, mrnNorm: normalizeMrn(input.mrn), givenNames: input.givenNames,
          familyName: input.familyName, birthDate: input.birthDate, gender: input.gender ?? null,
          restricted: input.restricted ? 1 : 0, version: input.version ?? 0,
          json: input.resource ? JSON.stringify(input.resource) : null, updatedAt,
        });
        clearTokens.run(input.id);
        for (const token of nameTokens(input.givenNames, input.familyName)) addToken.run(token, input.id);
      })();
      return toRecord(byId.get(input.id) as Row);
    },
    getById(id: string): PatientRecord | null {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    },
    getByMrn(mrn: string): PatientRecord | null {
      const row = byMrn.get(normalizeMrn(mrn));
      return row ? toRecord(row) : null;
    },
    /** Every given criterion must match; no criteria returns nothing (never a dump of all patients). */
    search(q: PatientSearch): PatientRecord[] {
      // Longest token first: it is the most selective, and the first token drives the name query.
      const tokens = q.name ? queryTokens(q.name).sort((a, b) => b.length - a.length).slice(0, 6) : [];
      const mrn = q.mrn?.trim() ? normalizeMrn(q.mrn) : null;
      const dob = q.birthDate?.trim() || null;
      if (tokens.length === 0 && !mrn && !dob) return [];
      if (dob && !DATE.test(dob)) throw invalidRecord('search', { field: 'birthDate' });
      const limit = Math.max(1, Math.min(MAX_LIMIT, Math.trunc(q.limit ?? 50)));
      const params: unknown[] = tokens.flatMap((t) => [t, prefixUpperBound(t)]);
      if (mrn) params.push(mrn);
      if (dob) params.push(dob);
      params.push(limit);
      return searchStatement(tokens.length, !!mrn, !!dob).all(...params).map(toRecord);
    },
    count(): number {
      return (countAll.get() as { n: number }).n;
    },
    /** Ids of every cached patient, sorted (ids only). */
    ids(): string[] {
      return allIds.all().map((r) => r.id);
    },
    /** Removes the patient's row and search tokens in one transaction; false when the id is unknown. */
    delete(id: string): boolean {
      let removed = false;
      db.transaction(() => {
        clearTokens.run(id);
        removed = delRow.run(id).changes === 1;
      })();
      return removed;
    },
  };
}
export type PatientRepository = ReturnType<typeof createPatientRepository>;
