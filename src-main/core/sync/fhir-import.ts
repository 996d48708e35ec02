/**
 * Importing FHIR R4 Bundles (transaction, batch or collection — e.g. Synthea's one bundle per
 * patient) into the vault, through the path a clinician's write takes: resource + outbox row +
 * audit entry in one vault transaction; the sync engine then seals each with the patient's data
 * key and pushes it. One transaction per bundle (not per entry): a commit per entry was the fixed
 * cost that held imports to ~50 resources/s.
 *
 * - Bundle types: `transaction` is all or nothing (one invalid entry -> nothing of it is written,
 *   every problem reported); `batch` and `collection` import each valid entry and report the others.
 * - Every entry is validated with Medplum's validator; invalid ones are reported by entry index,
 *   resource type and FHIRPath (never the offending value).
 * - urn:uuid references (how Synthea links entries) are rewritten to Type/id.
 * - Directory resources (Practitioner, Organization, Location, PractitionerRole) are stored in the
 *   vault as local reference data (no patient, never pushed: they carry no patient's data), so the
 *   chart can name who and where. Other resources that belong to no patient are reported as skipped.
 * - Identity: a Patient whose MRN is already on this workstation under another id is the same
 *   person, not a second chart. `onDuplicateMrn: 'merge'` (default) imports the bundle into the
 *   existing chart (every reference to the new id rewritten to the existing one) and reports the
 *   merge; 'refuse' imports nothing of that patient and reports it.
 * - Re-importing identical data is a no-op: a record whose stored version is the same resource
 *   (canonical JSON) is counted as unchanged — no write, no outbox row, no new version pushed.
 * - A patient new to this workstation gets a fresh data key (wrapped on the server before its
 *   first push); one already known keeps its key.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { canonicalJson, type AuditEntryInput } from '../../../src-shared/audit';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { LIMITS } from '../../../src-shared/sync/common';
import { patientInputFromFhir, type Vault } from '../vault';
import { assertValidResource } from '../vault/fhir-validate';
import type { DataKeyService } from '../crypto/data-keys';

export type BundleType = 'transaction' | 'batch' | 'collection';

export interface ImportProblem {
  /** Index of the entry in bundle.entry. */
  index: number;
  resourceType: string | null;
  /** FHIRPaths of what is wrong (comma-separated), or a short code. */
  paths: string;
  reason: 'invalid' | 'no-patient' | 'no-resource' | 'duplicate-mrn';
}

/** A bundle's Patient whose MRN was already on this workstation under another id. Ids only. */
export interface IdentityMatch {
  index: number;
  /** The id in the bundle. */
  bundleId: string;
  /** The chart it matched (by MRN). */
  existingId: string;
  action: 'merged' | 'refused';
}

export interface ImportReport {
  bundleType: BundleType;
  entries: number;
  /** Records written (new, or changed since the last import). */
  imported: number;
  /** Records identical to what the vault already holds: nothing written, nothing pushed. */
  unchanged: number;
  /** Directory resources (Practitioner, Organization, Location, PractitionerRole) stored or refreshed. */
  directory: number;
  patients: string[];
  invalid: ImportProblem[];
  skipped: ImportProblem[];
  identity: IdentityMatch[];
  /** A transaction bundle with a problem: nothing of it was written. */
  rolledBack: boolean;
  /** Outbox rows written (what the sync engine will push). */
  queued: number;
}

export interface ImportOptions {
  /** null for a dry run that must not even open a vault (then identities and unchanged records are not checked). */
  vault: Vault | null;
  /** Not used by a dry run. */
  keys: DataKeyService | null;
  /** The signed-in importing user (for the audit entries). */
  userId: string;
  role?: string;
  /** Validate and report only; write nothing. */
  dryRun?: boolean;
  onDuplicateMrn?: 'merge' | 'refuse';
  /** Ties the audit entries of one import run together (default: one per bundle). */
  correlationId?: string;
}

type AnyResource = Resource & { id?: string; [k: string]: unknown };
interface Entry { fullUrl?: string; resource?: AnyResource }

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set(['Practitioner', 'Organization', 'Location', 'PractitionerRole']);

/** fullUrl -> "Type/id" for every entry, assigning ids where a transaction bundle has none. */
function assignIds(entries: Entry[]): Map<string, string> {
  const refs = new Map<string, string>();
  for (const e of entries) {
    const r = e.resource;
    if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') continue;
    if (!r.id || !ID_PATTERN.test(r.id)) {
      const fromUrl = e.fullUrl?.startsWith('urn:uuid:') ? e.fullUrl.slice('urn:uuid:'.length) : null;
      r.id = fromUrl && ID_PATTERN.test(fromUrl) ? fromUrl : randomUUID();
    }
    if (e.fullUrl) refs.set(e.fullUrl, `${r.resourceType}/${r.id}`);
  }
  return refs;
}

/** Rewrites every `reference` found in `refs` in place. */
function rewriteReferences(value: unknown, refs: ReadonlyMap<string, string>): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, refs);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (k === 'reference' && typeof v === 'string') {
        const to = refs.get(v);
        if (to !== undefined) obj[k] = to;
      } else if (v && typeof v === 'object') rewriteReferences(v, refs);
    }
  }
}

/** The patient a resource belongs to: itself, or its subject/patient/beneficiary reference. */
export function patientOf(r: AnyResource): string | null {
  if (r.resourceType === 'Patient') return r.id ?? null;
  for (const field of ['subject', 'patient', 'beneficiary']) {
    const ref = (r[field] as { reference?: unknown } | undefined)?.reference;
    if (typeof ref === 'string') {
      const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
      if (m?.[1]) return m[1];
    }
  }
  return null;
}

function problemPaths(e: unknown): string {
  if (e instanceof EhrError) {
    const paths = e.detail?.paths;
    return typeof paths === 'string' && paths ? paths : e.code;
  }
  return 'invalid';
}

export function parseBundle(input: unknown): { type: BundleType; entries: Entry[] } {
  const b = input as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') {
    throw new EhrError(ErrorCode.INVALID, 'The file is not a FHIR Bundle.');
  }
  if (b.type !== 'transaction' && b.type !== 'batch' && b.type !== 'collection') {
    throw new EhrError(ErrorCode.INVALID, 'Only transaction, batch and collection Bundles can be imported.', { type: typeof b.type === 'string' ? b.type.slice(0, 32) : null });
  }
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw new EhrError(ErrorCode.INVALID, 'Bundle.entry must be a list.');
  return { type: b.type, entries: (b.entry ?? []) as Entry[] };
}

interface Planned { index: number; resource: AnyResource; patientId: string | null }

/**
 * Patients of the bundle whose MRN is on this workstation under another id: merged (their
 * references rewritten to the existing chart) or refused (their records left out).
 */
function matchIdentities(vault: Vault | null, entries: Entry[], opts: ImportOptions, report: ImportReport): { rewrite: Map<string, string>; refused: Set<string> } {
  const rewrite = new Map<string, string>();
  const refused = new Set<string>();
  if (!vault) return { rewrite, refused };
  entries.forEach((e, index) => {
    const r = e.resource;
    if (!r || r.resourceType !== 'Patient' || !r.id) return;
    let mrn: string;
    try {
      mrn = patientInputFromFhir(r as AnyResource & { resourceType: 'Patient'; id: string }, 0).mrn;
    } catch {
      return; // no MRN: nothing to match on
    }
    const existing = vault.patients.getByMrn(mrn);
    if (!existing || existing.id === r.id) return;
    const action = opts.onDuplicateMrn === 'refuse' ? 'refused' : 'merged';
    report.identity.push({ index, bundleId: r.id, existingId: existing.id, action });
    if (action === 'refused') refused.add(r.id);
    else {
      rewrite.set(`Patient/${r.id}`, `Patient/${existing.id}`);
      r.id = existing.id;
    }
  });
  return { rewrite, refused };
}

export function importBundle(bundle: unknown, opts: ImportOptions): ImportReport {
  const { vault } = opts;
  const { type, entries } = parseBundle(bundle);
  const refs = assignIds(entries);
  const report: ImportReport = {
    bundleType: type, entries: entries.length, imported: 0, unchanged: 0, directory: 0, patients: [],
    invalid: [], skipped: [], identity: [], rolledBack: false, queued: 0,
  };
  const identity = matchIdentities(vault, entries, opts, report);
  // Both spellings of a merged patient's reference (its urn:uuid, and Patient/<bundle id>) lead to the existing chart.
  for (const [from, to] of refs) {
    const merged = identity.rewrite.get(to);
    if (merged) refs.set(from, merged);
  }
  for (const [from, to] of identity.rewrite) refs.set(from, to);

  // 1. Shape: references resolved, owner found. Validation happens once, when the record is written (or, dry, here).
  const planned: Planned[] = [];
  entries.forEach((entry, index) => {
    const r = entry.resource;
    if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') {
      report.invalid.push({ index, resourceType: null, paths: 'entry.resource', reason: 'no-resource' });
      return;
    }
    rewriteReferences(r, refs);
    if (DIRECTORY_TYPES.has(r.resourceType)) {
      planned.push({ index, resource: r, patientId: null });
      return;
    }
    const patientId = patientOf(r);
    if (!patientId) {
      report.skipped.push({ index, resourceType: r.resourceType, paths: 'subject|patient', reason: 'no-patient' });
      return;
    }
    if (identity.refused.has(patientId)) {
      report.skipped.push({ index, resourceType: r.resourceType, paths: 'Patient.identifier', reason: 'duplicate-mrn' });
      return;
    }
    planned.push({ index, resource: r, patientId });
  });

  const allOrNothing = type === 'transaction';
  if (opts.dryRun) {
    for (const p of planned) {
      try {
        assertValidResource(p.resource);
        count(report, p);
      } catch (e) {
        if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
        report.invalid.push({ index: p.index, resourceType: p.resource.resourceType, paths: problemPaths(e), reason: 'invalid' });
      }
    }
    if (allOrNothing && report.invalid.length) rollBack(report);
    finish(report);
    return report;
  }
  if (allOrNothing && report.invalid.length) {
    // A transaction with an entry that is not even a resource: nothing of it is written. Validate
    // the rest too, so the report lists every problem at once.
    for (const p of planned) {
      try {
        assertValidResource(p.resource);
      } catch (e) {
        if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
        report.invalid.push({ index: p.index, resourceType: p.resource.resourceType, paths: problemPaths(e), reason: 'invalid' });
      }
    }
    rollBack(report);
    finish(report);
    return report;
  }

  const keys = opts.keys;
  if (!vault || !keys) throw new EhrError(ErrorCode.INTERNAL, 'An import that writes needs the vault and its data keys.');
  const correlationId = opts.correlationId ?? randomUUID();
  const written = { created: new Map<string, string[]>(), updated: new Map<string, string[]>() };
  const refusal = new TransactionRefused();
  const keyed = new Set<string>();
  try {
    vault.transaction(() => {
      for (const p of planned) {
        try {
          // Batch: each entry in its own savepoint, so a refused one leaves no trace. Transaction: any refusal rolls back all.
          const outcome = allOrNothing ? writeOne(vault, keys, p, keyed) : vault.transaction(() => writeOne(vault, keys, p, keyed));
          if (outcome === 'unchanged') report.unchanged++;
          else {
            count(report, p);
            if (p.patientId) {
              const byPatient = outcome === 'created' ? written.created : written.updated;
              const list = byPatient.get(p.patientId) ?? [];
              list.push(`${p.resource.resourceType}/${p.resource.id}`);
              byPatient.set(p.patientId, list);
              report.queued++;
            }
          }
          if (p.patientId) report.patients.push(p.patientId);
        } catch (e) {
          if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
          report.invalid.push({ index: p.index, resourceType: p.resource.resourceType, paths: problemPaths(e), reason: 'invalid' });
        }
      }
      if (allOrNothing && report.invalid.length) throw refusal;
      vault.audit.appendMany(auditEntries(written, opts, correlationId));
    });
  } catch (e) {
    if (e !== refusal) throw e;
    // Finish validating what the loop did not reach, so every problem is reported at once.
    const seen = new Set(report.invalid.map((i) => i.index));
    for (const p of planned) {
      if (seen.has(p.index)) continue;
      try {
        assertValidResource(p.resource);
      } catch (err) {
        if (!(err instanceof EhrError) || err.code !== ErrorCode.INVALID) throw err;
        report.invalid.push({ index: p.index, resourceType: p.resource.resourceType, paths: problemPaths(err), reason: 'invalid' });
      }
    }
    report.invalid.sort((a, b) => a.index - b.index);
    rollBack(report);
  }
  finish(report);
  return report;
}

class TransactionRefused extends Error {}

function count(report: ImportReport, p: Planned): void {
  if (p.patientId) report.imported++;
  else report.directory++;
}

function rollBack(report: ImportReport): void {
  report.rolledBack = true;
  report.imported = 0;
  report.directory = 0;
  report.unchanged = 0;
  report.queued = 0;
  report.patients = [];
}

function finish(report: ImportReport): void {
  report.patients = [...new Set(report.patients)];
  report.invalid.sort((a, b) => a.index - b.index);
}

/**
 * One record: unchanged (same canonical JSON as stored) -> nothing; otherwise stored (validated by
 * resources.put) and, for a patient's record, queued for push. Directory resources stay local.
 */
function writeOne(vault: Vault, keys: DataKeyService, p: Planned, keyed: Set<string>): 'created' | 'updated' | 'unchanged' {
  const r = p.resource;
  const existing = vault.resources.get(r.id!);
  if (existing && existing.status !== 'deleted' && existing.patientId === p.patientId && canonicalJson(existing.resource) === canonicalJson(r)) return 'unchanged';
  const baseVersion = existing?.version ?? 0;
  if (!p.patientId) {
    vault.resources.put({ resource: r, patientId: null, version: baseVersion, status: 'synced' });
    return existing ? 'updated' : 'created';
  }
  vault.resources.put({ resource: r, patientId: p.patientId, version: baseVersion, status: 'pending' });
  if (r.resourceType === 'Patient') {
    try {
      const prior = vault.patients.getById(r.id!);
      vault.patients.upsert({ ...patientInputFromFhir(r as AnyResource & { resourceType: 'Patient'; id: string }, baseVersion), restricted: prior?.restricted ?? false });
    } catch {
      // A Patient without MRN/name/birth date is still a valid resource: kept, just not searchable by them.
    }
  }
  // Once per patient and bundle (the pending-wrap list is read from the vault on every ask).
  if (!keyed.has(p.patientId)) {
    if (!keys.cachedKey(p.patientId) && !keys.hasPendingWrap(p.patientId)) keys.createForNewPatient(p.patientId);
    keyed.add(p.patientId);
  }
  vault.outbox.enqueue({ mutationId: randomUUID(), recordId: r.id!, patientId: p.patientId, resourceType: r.resourceType, baseVersion, op: existing ? 'update' : 'create', payload: r });
  return existing ? 'updated' : 'created';
}

/** The import's audit trail: per patient, create and update entries naming every record written (split to the server's per-entry limit). */
function auditEntries(written: { created: Map<string, string[]>; updated: Map<string, string[]> }, opts: ImportOptions, correlationId: string): AuditEntryInput[] {
  const out: AuditEntryInput[] = [];
  const per = LIMITS.auditRefsPerEntry;
  for (const [kind, byPatient] of [['create', written.created], ['update', written.updated]] as const) {
    for (const [patientId, refs] of byPatient) {
      for (let i = 0; i < refs.length; i += per) {
        out.push({
          action: kind === 'create' ? 'C' : 'U', type: kind, outcome: 'success', severity: 'info', userId: opts.userId, role: opts.role ?? null,
          patientId, resourceRefs: refs.slice(i, i + per), correlationId, reasonCode: 'import',
        });
      }
    }
  }
  return out;
}
