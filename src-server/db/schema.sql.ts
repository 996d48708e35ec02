/**
 * The schema, as ordered migrations. One dialect for PGlite and PostgreSQL. Append new migrations;
 * never edit an applied one. Tables named in AUDIT_TABLES are append-only twice over: a trigger
 * refuses UPDATE/DELETE on both engines, and the application role is never granted them.
 */
export const AUDIT_TABLES = ['server_audit', 'device_audit', 'review_dispositions', 'recording_access'] as const;

export const MIGRATIONS: readonly string[] = [
  /* 1: identity */ `
  CREATE TABLE organisations (id text PRIMARY KEY, name text NOT NULL);
  CREATE TABLE sites (id text PRIMARY KEY, org_id text NOT NULL REFERENCES organisations(id), name text NOT NULL);
  CREATE TABLE users (
    id text PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    roles text[] NOT NULL,
    site_id text REFERENCES sites(id),
    status text NOT NULL DEFAULT 'active',
    status_reason text,
    failed_logins int NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE patients (id text PRIMARY KEY, restricted boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE care_teams (id text PRIMARY KEY, name text NOT NULL);
  CREATE TABLE care_team_members (team_id text NOT NULL REFERENCES care_teams(id), user_id text NOT NULL REFERENCES users(id), PRIMARY KEY (team_id, user_id));
  CREATE INDEX care_team_members_user ON care_team_members(user_id);
  CREATE TABLE care_team_patients (team_id text NOT NULL REFERENCES care_teams(id), patient_id text NOT NULL REFERENCES patients(id), PRIMARY KEY (team_id, patient_id));
  CREATE INDEX care_team_patients_patient ON care_team_patients(patient_id);
  CREATE TABLE devices (
    id text PRIMARY KEY, name text, public_key text NOT NULL, enrolled_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
  );
  CREATE TABLE enrollment_codes (code_hash text PRIMARY KEY, created_by text NOT NULL, expires_at timestamptz NOT NULL, used_at timestamptz, device_id text);
  CREATE TABLE refresh_families (id text PRIMARY KEY, user_id text NOT NULL, device_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz, revoked_reason text);
  CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY, family_id text NOT NULL REFERENCES refresh_families(id),
    expires_at timestamptz NOT NULL, used_at timestamptz
  );
  CREATE TABLE server_secrets (name text PRIMARY KEY, wrapped text NOT NULL);
  `,
  /* 2: records, keys */ `
  CREATE SEQUENCE record_seq;
  CREATE TABLE records (
    record_id text PRIMARY KEY, patient_id text NOT NULL, resource_type text NOT NULL, version int NOT NULL,
    key_id text NOT NULL, nonce text NOT NULL, ct text NOT NULL, tag text NOT NULL, deleted boolean NOT NULL,
    author_user_id text NOT NULL, device_id text NOT NULL, updated_at timestamptz NOT NULL, seq bigint NOT NULL UNIQUE
  );
  CREATE INDEX records_patient_seq ON records(patient_id, seq);
  CREATE TABLE mutations (mutation_id text PRIMARY KEY, record_id text NOT NULL, version int NOT NULL, status text NOT NULL, user_id text NOT NULL, at timestamptz NOT NULL);
  CREATE TABLE conflicts (
    id bigserial PRIMARY KEY, mutation_id text NOT NULL, record_id text NOT NULL, base_version int NOT NULL,
    server_version int NOT NULL, envelope jsonb NOT NULL, user_id text NOT NULL, device_id text NOT NULL, at timestamptz NOT NULL
  );
  CREATE TABLE data_keys (
    patient_id text NOT NULL, key_id text NOT NULL, wrapped text NOT NULL, created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (patient_id, key_id)
  );
  `,
  /* 3: audit, break-glass, alerts */ `
  CREATE TABLE server_audit (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), type text NOT NULL, action text NOT NULL,
    outcome text NOT NULL, severity text NOT NULL, user_id text, device_id text, patient_id text,
    correlation_id text, detail jsonb
  );
  CREATE INDEX server_audit_patient ON server_audit(patient_id, at);
  CREATE INDEX server_audit_user ON server_audit(user_id, at);
  CREATE TABLE device_audit (
    device_id text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, prev_hash text NOT NULL,
    at timestamptz NOT NULL, type text NOT NULL, action text NOT NULL, outcome text NOT NULL, severity text NOT NULL,
    user_id text, patient_id text, correlation_id text, entry jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
  );
  CREATE INDEX device_audit_patient ON device_audit(patient_id, at);
  CREATE INDEX device_audit_user ON device_audit(user_id, at);
  CREATE TABLE break_glass_grants (
    id text PRIMARY KEY, user_id text NOT NULL, patient_id text NOT NULL, reason text NOT NULL,
    justification_sealed text NOT NULL, starts_at timestamptz NOT NULL, expires_at timestamptz NOT NULL,
    reviewed_at timestamptz, reviewed_by text, review_note_sealed text
  );
  CREATE INDEX break_glass_user ON break_glass_grants(user_id, expires_at);
  CREATE TABLE alerts (
    id text PRIMARY KEY, kind text NOT NULL, severity text NOT NULL, user_id text, patient_id text, detail jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), acknowledged_at timestamptz, acknowledged_by text, note_sealed text
  );
  CREATE FUNCTION ehr_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN RAISE EXCEPTION 'audit tables are append-only' USING ERRCODE = 'insufficient_privilege'; END
  $fn$;
  CREATE TRIGGER server_audit_append_only BEFORE UPDATE OR DELETE ON server_audit FOR EACH ROW EXECUTE FUNCTION ehr_append_only();
  CREATE TRIGGER device_audit_append_only BEFORE UPDATE OR DELETE ON device_audit FOR EACH ROW EXECUTE FUNCTION ehr_append_only();
  `,
  /* 4: justifications of break-glass granted offline, delivered after their audit entry (sealed with the notes key) */ `
  CREATE TABLE device_break_glass_justifications (
    device_id text NOT NULL, seq bigint NOT NULL, user_id text NOT NULL, patient_id text NOT NULL, reason text NOT NULL,
    correlation_id text, justification_sealed text NOT NULL, alert_id text, received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
  );
  CREATE INDEX device_break_glass_justifications_alert ON device_break_glass_justifications(alert_id);
  `,
  /* 5: replay matching, atomic sign-in throttling, server-observed access (issue 13) */ `
  ALTER TABLE mutations ADD COLUMN device_id text;
  ALTER TABLE mutations ADD COLUMN payload_hash text;
  CREATE TABLE auth_throttle (key text PRIMARY KEY, window_start timestamptz NOT NULL, failures int NOT NULL);
  CREATE TABLE access_events (
    id bigserial PRIMARY KEY, user_id text NOT NULL, patient_id text NOT NULL, device_id text, source text NOT NULL, kind text NOT NULL,
    at timestamptz NOT NULL, reported_at timestamptz
  );
  CREATE INDEX access_events_user ON access_events(user_id, at);
  INSERT INTO access_events (user_id, patient_id, device_id, source, kind, at, reported_at)
    SELECT user_id, patient_id, device_id, 'device', 'read', received_at, at FROM device_audit
     WHERE type = 'read' AND action = 'R' AND outcome = 'success' AND patient_id IS NOT NULL AND user_id IS NOT NULL;
  `,
  /* 6: the privacy officer's dispositions, append-only (a review is never edited: a new one is added) */ `
  CREATE TABLE review_dispositions (
    id bigserial PRIMARY KEY, subject text NOT NULL, subject_id text NOT NULL,
    disposition text NOT NULL CHECK (disposition IN ('appropriate', 'inappropriate', 'follow-up')),
    note_sealed text NOT NULL, reviewer_id text NOT NULL, patient_id text, at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX review_dispositions_subject ON review_dispositions(subject, subject_id, id);
  CREATE TRIGGER review_dispositions_append_only BEFORE UPDATE OR DELETE ON review_dispositions FOR EACH ROW EXECUTE FUNCTION ehr_append_only();
  `,
  /* 7: telemedicine (docs/telemedicine.md): visits, one-time patient links (hash only), sealed recordings, recording access log */ `
  CREATE TABLE visits (
    id text PRIMARY KEY, patient_id text NOT NULL, host_user_id text NOT NULL, host_device_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'ended')), recording_consent boolean,
    created_at timestamptz NOT NULL, ended_at timestamptz, end_reason text
  );
  CREATE INDEX visits_host ON visits(host_user_id, status);
  CREATE TABLE visit_links (
    token_hash text PRIMARY KEY, visit_id text NOT NULL REFERENCES visits(id), expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL, used_at timestamptz, revoked_at timestamptz
  );
  CREATE INDEX visit_links_visit ON visit_links(visit_id);
  CREATE TABLE recordings (
    id text PRIMARY KEY, visit_id text NOT NULL REFERENCES visits(id), patient_id text NOT NULL, created_by text NOT NULL,
    created_at timestamptz NOT NULL, status text NOT NULL CHECK (status IN ('recording', 'complete', 'deleted')),
    chunk_count int NOT NULL DEFAULT 0, meta jsonb, delete_after timestamptz, deleted_at timestamptz, deleted_by text
  );
  CREATE INDEX recordings_patient ON recordings(patient_id, created_at);
  CREATE TABLE recording_chunks (
    recording_id text NOT NULL REFERENCES recordings(id), seq int NOT NULL, envelope jsonb NOT NULL, envelope_hash text NOT NULL,
    PRIMARY KEY (recording_id, seq)
  );
  CREATE TABLE recording_access (
    id bigserial PRIMARY KEY, recording_id text NOT NULL, patient_id text NOT NULL, user_id text NOT NULL,
    action text NOT NULL CHECK (action IN ('record', 'view', 'download', 'delete', 'purge')), at timestamptz NOT NULL, device_id text
  );
  CREATE INDEX recording_access_recording ON recording_access(recording_id, id);
  CREATE INDEX recording_access_patient ON recording_access(patient_id, id);
  CREATE TRIGGER recording_access_append_only BEFORE UPDATE OR DELETE ON recording_access FOR EACH ROW EXECUTE FUNCTION ehr_append_only();
  `,
];
