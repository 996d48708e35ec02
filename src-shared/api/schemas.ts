/**
 * Building blocks for the API's input schemas. Every string has a maximum length and every list a
 * maximum count, so an oversized payload from a compromised renderer is refused (INVALID/TOO_LARGE)
 * before any handler touches data.
 */
import type { Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import { BREAK_GLASS_REASONS } from '../policy';

/** Limits the handlers rely on; exported so tests and the renderer can use the same numbers. */
export const LIMITS = {
  idChars: 64,
  usernameChars: 128,
  passwordChars: 1024,
  searchChars: 100,
  searchResults: 100,
  /** patients.mine: the largest offset accepted (a care team is far smaller). */
  myPatientsOffset: 100_000,
  /** A FHIR resource written through records.save, serialised. */
  resourceBytes: 256 * 1024,
  /** A draft's content (the renderer's form state, serialised). */
  draftBytes: 512 * 1024,
  draftKeyChars: 200,
  /** The server's limit too (src-shared/sync/break-glass.ts JustificationSchema): an offline text must fit when it is delivered. */
  justificationChars: 1000,
  auditPage: 500,
  /** A privacy officer's review note (the server's limit too: src-shared/sync/privacy.ts). */
  reviewNoteChars: 2000,
  recordIdsPerCall: 200,
  /** New records in one records.createBatch call (a vitals form has a handful). */
  batchRecords: 50,
  /** Timeline records per chart page (patients.open, records.older). */
  chartPage: 200,
} as const;

/**
 * An opaque id, same alphabet as the wire protocol's (letters, digits, `._:-`): ids are the only
 * thing errors may carry, so they can never smuggle SQL, markup or a name.
 */
export const FhirId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be an id');
export const PatientId = FhirId;
export const RecordId = FhirId;

/** Resource types a chart holds and records.save accepts (Patient is demographics). */
export const RECORD_TYPES = [
  'Patient',
  'Observation',
  'Condition',
  'DocumentReference',
  'MedicationRequest',
  'MedicationStatement',
  'AllergyIntolerance',
  'Encounter',
  'Procedure',
  'Immunization',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export const RecordTypeSchema = z.enum(RECORD_TYPES);

export const BreakGlassReasonSchema = z.enum(BREAK_GLASS_REASONS);

/** Byte length of a value's JSON form (UTF-8), without Node's Buffer: src-shared is pure. */
export function jsonBytes(value: unknown): number {
  const s = JSON.stringify(value) ?? '';
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A FHIR R4 resource of one of the chart types (typed with @medplum/fhirtypes). */
export type ChartResource = Extract<Resource, { resourceType: RecordType }>;

/**
 * A FHIR resource of a chart type. The schema checks the envelope (type, id, size); full validation
 * (Medplum, R4) happens in the vault on write. Typed as the FHIR union so callers pass their
 * @medplum/fhirtypes objects as they are.
 */
export const FhirResourceInput = z
  .looseObject({
    resourceType: RecordTypeSchema,
    id: FhirId.optional(),
  })
  .refine((r) => jsonBytes(r) <= LIMITS.resourceBytes, { message: `resource exceeds ${LIMITS.resourceBytes} bytes` }) as unknown as z.ZodType<
  ChartResource,
  ChartResource
>;

export const Empty = z.strictObject({});
