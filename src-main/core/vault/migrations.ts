/**
 * Versioned schema migrations, tracked in PRAGMA user_version. Each migration runs in its own
 * transaction, so a crash leaves the vault at the previous version, never half-migrated.
 * Append new migrations at the end; never edit one that has shipped.
 */
import type { Db } from './connection';
import { VaultError } from './errors';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'patients + search index, resources, drafts, outbox, audit log, data keys, verifiers, kv',
    sql: `
      CREATE TABLE patients (
        id TEXT PRIMARY KEY,
        mrn TEXT NOT NULL,
        mrn_norm TEXT NOT NULL UNIQUE,
        given_names TEXT NOT NULL,
        family_name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        gender TEXT,
        restricted INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 0,
        json TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX patients_birth_date ON patients(birth_date);
      -- One row per normalised name token (lower case, accents stripped): prefix search is a range scan.
      CREATE TABLE patient_name_tokens (
        token TEXT NOT NULL,
        patient_id TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
        PRIMARY KEY (token, patient_id)
      ) WITHOUT ROWID;
      CREATE INDEX patient_name_tokens_patient ON patient_name_tokens(patient_id);

      CREATE TABLE resources (
        id TEXT PRIMARY KEY,
        patient_id TEXT,
        resource_type TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('synced', 'pending', 'conflict', 'deleted')),
        json TEXT NOT NULL,
        conflict_json TEXT,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX resources_patient ON resources(patient_id, resource_type);
      CREATE INDEX resources_unsynced ON resources(status) WHERE status <> 'synced';

      CREATE TABLE drafts (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        patient_id TEXT,
        resource_type TEXT,
        json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX drafts_user ON drafts(user_id, patient_id);

      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        mutation_id TEXT NOT NULL UNIQUE,
        record_id TEXT NOT NULL,
        patient_id TEXT,
        resource_type TEXT NOT NULL,
        base_version INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX outbox_due ON outbox(next_attempt_at);

      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        signature TEXT NOT NULL,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        patient_id TEXT,
        entry TEXT NOT NULL,
        pushed INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX audit_unpushed ON audit_log(seq) WHERE pushed = 0;
      -- Append-only: only the pushed flag may change, and only from 0 to 1; nothing is deleted.
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_edit BEFORE UPDATE OF seq, device_id, prev_hash, hash, signature, at, type, patient_id, entry ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_unpush BEFORE UPDATE OF pushed ON audit_log WHEN NEW.pushed < OLD.pushed
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

      CREATE TABLE data_keys (
        patient_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        key BLOB NOT NULL,
        expires_at TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (patient_id, key_id)
      );

      CREATE TABLE verifiers (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name TEXT,
        hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        last_online_login_at TEXT NOT NULL,
        failed_count INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT
      );

      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    description: 'audit log signed by checkpoints (audit_checkpoints), leaner audit_log rows',
    // SQLite cannot relax NOT NULL in place, so the log is rebuilt. Entries written before this
    // version were each signed: every one becomes a checkpoint, and its stored JSON is untouched.
    // DROP TABLE removes the old triggers with the table and fires none of them.
    sql: `
      CREATE TABLE audit_checkpoints (
        seq INTEGER PRIMARY KEY,
        signature TEXT NOT NULL,
        signed_at TEXT NOT NULL
      );
      INSERT INTO audit_checkpoints (seq, signature, signed_at) SELECT seq, signature, at FROM audit_log;
      -- Leaner rows, because appending is the hot path: the device id and previous hash live only in
      -- the entry JSON (new rows store the canonical JSON that was hashed); hash, time, type and
      -- patient stay as columns for the head lookup and queries. No UNIQUE index on the hash: the chain already makes hashes distinct,
      -- and an index of random 64-character keys cost more than the rest of the insert.
      CREATE TABLE audit_log_v2 (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        patient_id TEXT,
        entry TEXT NOT NULL,
        pushed INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO audit_log_v2 (seq, hash, at, type, patient_id, entry, pushed)
        SELECT seq, hash, at, type, patient_id, entry, pushed FROM audit_log;
      DROP TABLE audit_log;
      ALTER TABLE audit_log_v2 RENAME TO audit_log;
      CREATE INDEX audit_unpushed ON audit_log(seq) WHERE pushed = 0;
      -- Append-only: only the pushed flag may change, and only from 0 to 1; nothing is deleted.
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_edit BEFORE UPDATE OF seq, hash, at, type, patient_id, entry ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_unpush BEFORE UPDATE OF pushed ON audit_log WHEN NEW.pushed < OLD.pushed
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      -- A checkpoint, once signed, is never changed or removed either.
      CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_checkpoints_no_edit BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    `,
  },
  {
    version: 3,
    description: 'resources.validated: pulled records are FHIR-validated on first read (1 valid, 0 not yet, -1 quarantined)',
    // Every existing row was validated by resources.put: default 1. Sync's bulk apply writes 0.
    sql: `ALTER TABLE resources ADD COLUMN validated INTEGER NOT NULL DEFAULT 1 CHECK (validated IN (-1, 0, 1));`,
  },
  {
    version: 4,
    description: 'resources.clinical_date (generated from the FHIR JSON) + index: charts page by clinical date, not by local update time',
    // A VIRTUAL generated column needs no change to any write path (put, putPulled, conflicts) and no
    // backfill: SQLite computes it from the row's JSON, and the index below stores it once per row.
    // The first FHIR date a chart type carries, in R4 element order of preference; rows whose JSON
    // names none (or is not JSON) get NULL and sort as the oldest. ISO strings compare by date as
    // long as they share a time-zone offset (a source's bundles do); docs/session.md.
    sql: `
      ALTER TABLE resources ADD COLUMN clinical_date TEXT GENERATED ALWAYS AS (CASE WHEN json_valid(json) THEN coalesce(
        json_extract(json, '$.effectiveDateTime'), json_extract(json, '$.effectivePeriod.start'), json_extract(json, '$.effectiveInstant'),
        json_extract(json, '$.onsetDateTime'), json_extract(json, '$.onsetPeriod.start'), json_extract(json, '$.recordedDate'),
        json_extract(json, '$.authoredOn'), json_extract(json, '$.occurrenceDateTime'), json_extract(json, '$.performedDateTime'),
        json_extract(json, '$.performedPeriod.start'), json_extract(json, '$.period.start'), json_extract(json, '$.issued'),
        json_extract(json, '$.date'), json_extract(json, '$.billablePeriod.start'), json_extract(json, '$.created'),
        json_extract(json, '$.meta.lastUpdated')) END) VIRTUAL;
      CREATE INDEX resources_patient_clinical ON resources(patient_id, clinical_date);
    `,
  },
  {
    version: 5,
    description: 'api_requests: the answer to each idempotent API call (records.createBatch), so a retry writes nothing twice',
    // Ids and a hash only (the result lists record and mutation ids): no PHI. Rows are written in
    // the same transaction as the records they describe, so a row exists exactly when they do.
    sql: `
      CREATE TABLE api_requests (
        request_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX api_requests_created ON api_requests(created_at);
    `,
  },
  {
    version: 6,
    description: 'recording_chunks_pending: sealed video-visit recording chunks the server has not acknowledged yet (telemedicine)',
    // Only sealed envelopes (AES-256-GCM under the patient's data key) are stored: the plaintext of a
    // chunk never touches disk. A row lives until the server acknowledges its PUT.
    sql: `
      CREATE TABLE recording_chunks_pending (
        recording_id TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 0),
        user_id TEXT NOT NULL,
        envelope TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        PRIMARY KEY (recording_id, seq)
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Brings the schema up to SCHEMA_VERSION; refuses a vault written by a newer app version. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) throw new VaultError('SCHEMA_TOO_NEW', { schema: current, supported: latest });
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version=${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
