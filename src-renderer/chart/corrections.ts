/**
 * Correcting a record that is already in the chart, as FHIR says to, never by deleting it:
 *
 * - a note is amended: the same DocumentReference, new text, `docStatus: 'amended'`, saved as an
 *   update on the version the clinician opened (`baseVersion`). The server keeps every version; a
 *   conflict keeps both sides.
 * - a vital sign is marked entered in error: the same Observation with
 *   `status: 'entered-in-error'` and a coded reason (an extension: records.save has no reason field,
 *   and R4 Observation has no statusReason). It stays in the record, struck through, out of trends.
 *
 * Pure functions (no store, no client): the actions and the tests share them.
 */
import type { Coding, DocumentReference, Extension, Observation, Resource } from '@medplum/fhirtypes';
import { decodeBase64Text, encodeBase64Text } from './fhir-text';

export const ENTERED_IN_ERROR_REASON_URL = 'https://clinic-ehr.example/fhir/StructureDefinition/entered-in-error-reason';
export const ENTERED_IN_ERROR_REASON_SYSTEM = 'https://clinic-ehr.example/fhir/CodeSystem/entered-in-error-reason';

/** Fixed codes (no free text: nothing typed here can carry PHI into the record's metadata). */
export const ENTERED_IN_ERROR_REASONS = [
  { code: 'wrong-patient', display: 'Recorded on the wrong patient' },
  { code: 'wrong-value', display: 'Wrong value or unit' },
  { code: 'wrong-time', display: 'Wrong date or time' },
  { code: 'duplicate', display: 'Duplicate entry' },
  { code: 'device-error', display: 'Device or measurement error' },
] as const;
export type EnteredInErrorReason = (typeof ENTERED_IN_ERROR_REASONS)[number]['code'];

export function reasonDisplay(code: string | undefined): string {
  return ENTERED_IN_ERROR_REASONS.find((r) => r.code === code)?.display ?? '';
}

/** The coded reason stored on an entered-in-error Observation, if any. */
export function enteredInErrorReason(o: Observation): string | undefined {
  return o.extension?.find((e) => e.url === ENTERED_IN_ERROR_REASON_URL)?.valueCoding?.code;
}

/** The Observation as entered in error: same record, status changed, reason added, nothing else touched. */
export function enteredInErrorObservation(o: Observation, reason: EnteredInErrorReason): Observation {
  const coding: Coding = { system: ENTERED_IN_ERROR_REASON_SYSTEM, code: reason, display: reasonDisplay(reason) };
  const ext: Extension = { url: ENTERED_IN_ERROR_REASON_URL, valueCoding: coding };
  return {
    ...o,
    status: 'entered-in-error',
    extension: [...(o.extension ?? []).filter((e) => e.url !== ENTERED_IN_ERROR_REASON_URL), ext],
  };
}

/** The note's text (the first attachment, base64 UTF-8), or its description. */
export function documentText(d: DocumentReference): string {
  const att = d.content?.[0]?.attachment;
  if (att?.data) {
    try {
      return decodeBase64Text(att.data);
    } catch {
      return '';
    }
  }
  return d.description ?? '';
}

/** The amended note: the same DocumentReference with the new text and `docStatus: 'amended'`. */
export function amendedNote(d: DocumentReference, text: string): DocumentReference {
  const [first, ...rest] = d.content ?? [];
  return {
    ...d,
    docStatus: 'amended',
    content: [
      { ...(first ?? {}), attachment: { ...(first?.attachment ?? {}), contentType: 'text/plain; charset=utf-8', data: encodeBase64Text(text) } },
      ...rest,
    ],
  };
}

/** Did this user author the note? (Clinicians amend their own notes; `Practitioner/<userId>`.) */
export function isAuthoredBy(d: DocumentReference, userId: string): boolean {
  return (d.author ?? []).some((a) => a.reference === `Practitioner/${userId}`);
}

export const isObservation = (r: Resource): r is Observation => r.resourceType === 'Observation';
export const isDocumentReference = (r: Resource): r is DocumentReference => r.resourceType === 'DocumentReference';

/** One amendment draft per user, patient and note (the vault keys drafts by user). */
export const amendDraftKey = (patientId: string, recordId: string): string => `note-amendment:${patientId}:${recordId}`;

/**
 * What an amendment draft keeps: the text being written, and what it amends — the version and the
 * note's text at that version — so a later save still detects a change made elsewhere meanwhile.
 */
export interface AmendDraft {
  baseVersion: number;
  baseText: string;
  text: string;
}

export function encodeAmendDraft(d: AmendDraft): string {
  return JSON.stringify({ v: 1, baseVersion: d.baseVersion, baseText: d.baseText, text: d.text });
}

export function decodeAmendDraft(content: string): AmendDraft | null {
  try {
    const v = JSON.parse(content) as { v?: unknown; baseVersion?: unknown; baseText?: unknown; text?: unknown };
    if (v.v !== 1 || typeof v.text !== 'string' || typeof v.baseText !== 'string') return null;
    if (typeof v.baseVersion !== 'number' || !Number.isInteger(v.baseVersion) || v.baseVersion < 0) return null;
    return { baseVersion: v.baseVersion, baseText: v.baseText, text: v.text };
  } catch {
    return null;
  }
}

/** JSON with sorted keys, `meta` left out: equal for the same clinical content whatever the key order. */
function canonical(value: unknown, top = true): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, false)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => v !== undefined && !(top && k === 'meta'))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, false)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Same clinical content? A record's version also moves when this workstation's own change comes
 * back from the server; what the clinician acted on is still current if the content is unchanged.
 */
export function sameContent(a: Resource, b: Resource): boolean {
  return canonical(a) === canonical(b);
}
