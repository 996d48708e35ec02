/**
 * Importing FHIR R4 Bundles (transaction or collection, e.g. Synthea output) into the vault,
 * through exactly the path a clinician's write takes: resource + outbox row + audit entry in one
 * vault transaction; the sync engine then seals each with the patient's data key and pushes it.
 *
 * - Every entry is validated with Medplum's validator first; invalid ones are reported by entry
 *   index, resource type and FHIRPath (never the offending value) and not imported.
 * - urn:uuid references (how Synthea links entries) are rewritten to Type/id.
 * - Records are sealed per patient, so resources that belong to no patient (Practitioner,
 *   Organization...) are reported as skipped.
 * - A patient new to this workstation gets a fresh data key (wrapped on the server before its
 *   first push); one already known keeps its key.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { patientInputFromFhir, type Vault } from '../vault';
import { assertValidResource } from '../vault/fhir-validate';
import type { DataKeyService } from '../crypto/data-keys';

export interface ImportProblem {
  /** Index of the entry in bundle.entry. */
  index: number;
  resourceType: string | null;
  /** FHIRPaths of what is wrong (comma-separated), or a short code. */
  paths: string;
  reason: 'invalid' | 'no-patient' | 'no-resource';
}

export interface ImportReport {
  entries: number;
  imported: number;
  patients: string[];
  invalid: ImportProblem[];
  skipped: ImportProblem[];
  /** Outbox mutation ids written (what the sync engine will push). */
  mutationIds: string[];
}

export interface ImportOptions {
  vault: Vault;
  keys: DataKeyService;
  /** The signed-in importing user (for the audit entries). */
  userId: string;
  role?: string;
  /** Validate and report only; write nothing. */
  dryRun?: boolean;
}

type AnyResource = Resource & { id?: string; [k: string]: unknown };

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** fullUrl -> "Type/id" for every entry, assigning ids where a transaction bundle has none. */
function assignIds(entries: { fullUrl?: string; resource?: AnyResource }[]): Map<string, string> {
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

/** Rewrites every `reference: "urn:uuid:…"` in place. */
function rewriteReferences(value: unknown, refs: Map<string, string>): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, refs);
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'reference' && typeof v === 'string' && refs.has(v)) obj[k] = refs.get(v);
      else rewriteReferences(v, refs);
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

export function parseBundle(input: unknown): { fullUrl?: string; resource?: AnyResource }[] {
  const b = input as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') {
    throw new EhrError(ErrorCode.INVALID, 'The file is not a FHIR Bundle.');
  }
  if (b.type !== 'transaction' && b.type !== 'collection') {
    throw new EhrError(ErrorCode.INVALID, 'Only transaction and collection Bundles can be imported.', { type: typeof b.type === 'string' ? b.type : null });
  }
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw new EhrError(ErrorCode.INVALID, 'Bundle.entry must be a list.');
  return (b.entry ?? []) as { fullUrl?: string; resource?: AnyResource }[];
}

export function importBundle(bundle: unknown, opts: ImportOptions): ImportReport {
  const { vault, keys } = opts;
  const entries = parseBundle(bundle);
  const refs = assignIds(entries);
  const report: ImportReport = { entries: entries.length, imported: 0, patients: [], invalid: [], skipped: [], mutationIds: [] };
  const patients = new Set<string>();
  entries.forEach((entry, index) => {
    const r = entry.resource;
    if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') {
      report.invalid.push({ index, resourceType: null, paths: 'entry.resource', reason: 'no-resource' });
      return;
    }
    rewriteReferences(r, refs);
    const patientId = patientOf(r);
    if (!patientId) {
      report.skipped.push({ index, resourceType: r.resourceType, paths: 'subject|patient', reason: 'no-patient' });
      return;
    }
    try {
      if (opts.dryRun) {
        assertValidResource(r);
        report.imported++;
        patients.add(patientId);
        return;
      }
      vault.transaction(() => {
        const existing = vault.resources.get(r.id!);
        const baseVersion = existing?.version ?? 0;
        // put() validates with Medplum; an invalid resource throws here and the transaction writes nothing.
        vault.resources.put({ resource: r, patientId, version: baseVersion, status: 'pending' });
        if (r.resourceType === 'Patient') {
          try {
            vault.patients.upsert(patientInputFromFhir(r as AnyResource & { resourceType: 'Patient'; id: string }, baseVersion));
          } catch {
            // A Patient without MRN/name/birth date is still a valid resource: kept, just not searchable by them.
          }
        }
        if (!keys.cachedKey(patientId) && !keys.hasPendingWrap(patientId)) keys.createForNewPatient(patientId);
        const mutationId = randomUUID();
        vault.outbox.enqueue({ mutationId, recordId: r.id!, patientId, resourceType: r.resourceType, baseVersion, op: existing ? 'update' : 'create', payload: r });
        vault.audit.append({
          action: existing ? 'U' : 'C', type: existing ? 'update' : 'create', outcome: 'success', severity: 'info',
          userId: opts.userId, role: opts.role ?? null, patientId, resourceRefs: [`${r.resourceType}/${r.id}`], correlationId: mutationId, reasonCode: 'import',
        });
        report.mutationIds.push(mutationId);
      });
      report.imported++;
      patients.add(patientId);
    } catch (e) {
      if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
      report.invalid.push({ index, resourceType: r.resourceType, paths: problemPaths(e), reason: 'invalid' });
    }
  });
  report.patients = [...patients];
  return report;
}
