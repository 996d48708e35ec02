/**
 * Demo organisation for a fresh data directory: one user per role (passwords documented in
 * docs/server.md — demo only), two care teams, a restricted patient, and a few hundred synthetic
 * patients with charts (Patient, vital-sign Observations, Conditions, MedicationStatements,
 * AllergyIntolerance, a note) sealed with the same envelope code the workstations use. Data keys
 * are wrapped by the KEK like any other. Runs once: skipped when an organisation exists.
 */
import { randomBytes } from 'node:crypto';
import { sealJson } from '../../src-shared/node/envelope';
import type { Role } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { dataKeyAad } from '../keys/sealed';
import { hashPassword } from '../services/passwords';
import { writeAudit } from '../services/server-audit';
import * as careTeams from '../store/care-teams';
import * as dataKeys from '../store/data-keys';
import * as organisations from '../store/organisations';
import * as patientStore from '../store/patients';
import * as records from '../store/records';
import type { RecordRow } from '../store/records';
import * as users from '../store/users';
import { syntheticChart } from './synthetic-chart';

export const DEMO_USERS: readonly { id: string; username: string; displayName: string; role: Role; password: string }[] = [
  { id: 'u-nurse', username: 'nurse', displayName: 'Nadia Nurse (demo)', role: 'nurse', password: 'demo-nurse-2026' },
  { id: 'u-physician', username: 'doctor', displayName: 'Dr Dario Doctor (demo)', role: 'physician', password: 'demo-doctor-2026' },
  { id: 'u-physician2', username: 'doctor2', displayName: 'Dr Petra Second (demo)', role: 'physician', password: 'demo-doctor2-2026' },
  { id: 'u-billing', username: 'billing', displayName: 'Bill Billing (demo)', role: 'billing', password: 'demo-billing-2026' },
  { id: 'u-admin', username: 'admin', displayName: 'Ada Admin (demo)', role: 'admin', password: 'demo-admin-2026' },
  { id: 'u-privacy', username: 'privacy', displayName: 'Priya Privacy (demo)', role: 'privacy_officer', password: 'demo-privacy-2026' },
];

export interface DemoSeedReport {
  patients: number;
  records: number;
  restrictedPatientId: string;
  careTeams: { id: string; userIds: string[]; patientIds: number }[];
}

export const demoPatientId = (i: number): string => `demo-p-${String(i).padStart(4, '0')}`;

export async function seedDemo(ctx: ServerContext, { patients }: { patients: number }): Promise<DemoSeedReport | undefined> {
  const hashes = await Promise.all(DEMO_USERS.map((u) => hashPassword(u.password)));
  return ctx.db.tx(async (sql) => {
    if (!(await organisations.createIfAbsent(sql, 'org-demo', 'Demo Clinic'))) return undefined;
    await organisations.addSite(sql, 'site-main', 'org-demo', 'Main site');
    for (const [i, u] of DEMO_USERS.entries()) {
      await users.create(sql, { id: u.id, username: u.username, displayName: u.displayName, passwordHash: hashes[i]!, roles: [u.role], siteId: 'site-main' });
    }
    const ids = Array.from({ length: patients }, (_, i) => demoPatientId(i + 1));
    const restricted = ids[0]!;
    await patientStore.insertMany(sql, ids.map((id) => ({ id, restricted: id === restricted })));
    // Ward A: nurse + doctor, most patients. Ward B: doctor2, the rest. The restricted patient is on neither.
    const split = Math.floor(patients * 0.8);
    const teams = [
      { id: 'team-ward-a', name: 'Ward A', userIds: ['u-nurse', 'u-physician'], patientIds: ids.slice(1, split) },
      { id: 'team-ward-b', name: 'Ward B', userIds: ['u-physician2'], patientIds: ids.slice(split) },
    ];
    for (const t of teams) await careTeams.replace(sql, t);
    let records = 0;
    for (const [i, patientId] of ids.entries()) records += await seedChart(ctx, sql, patientId, i);
    await writeAudit(sql, { type: 'demo-seed', action: 'C', outcome: 'success', severity: 'info', detail: { patients, records } });
    return {
      patients, records, restrictedPatientId: restricted,
      careTeams: teams.map((t) => ({ id: t.id, userIds: t.userIds, patientIds: t.patientIds.length })),
    };
  });
}

async function seedChart(ctx: ServerContext, sql: Sql, patientId: string, index: number): Promise<number> {
  const keyId = `${patientId}-k1`;
  const dataKey = randomBytes(32);
  await dataKeys.insertFirst(sql, { patientId, keyId, wrapped: await ctx.keys.wrap(dataKey, dataKeyAad(patientId, keyId)), createdBy: 'u-physician' });
  const now = ctx.now();
  const rows: RecordRow[] = syntheticChart(patientId, index).map((resource) => {
    const env = sealJson({ recordId: resource.id!, patientId, resourceType: resource.resourceType, version: 1, keyId }, resource, dataKey);
    return {
      record_id: env.recordId, patient_id: patientId, resource_type: env.resourceType, version: 1, key_id: keyId,
      nonce: env.nonce, ct: env.ct, tag: env.tag, deleted: false, author_user_id: 'u-physician', device_id: 'demo-seed', updated_at: now,
    };
  });
  await records.upsert(sql, rows);
  return rows.length;
}
