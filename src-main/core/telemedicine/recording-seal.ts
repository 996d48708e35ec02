/**
 * Sealing a recording exactly like a record (src-shared/node/envelope.ts): its FHIR Media is
 * version 1 of record `recordingId`, chunk n is a Binary at version n + 1, all under the patient's
 * data key. Sealed in main before a byte touches disk or network; opened in main only.
 */
import { open, openJson, seal, sealJson, type Envelope } from '../../../src-shared/node/envelope';
import { RECORDING_CHUNK_TYPE, RECORDING_META_TYPE } from '../../../src-shared/sync/visits';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { z } from 'zod';

export interface SealingKey {
  keyId: string;
  key: Buffer;
}

export interface RecordingMetaInput {
  recordingId: string;
  visitId: string;
  patientId: string;
  operatorUserId: string;
  mimeType: string;
  createdAt: Date;
}

/** The FHIR R4 Media a recording is described by (opened on workstations only). */
export function recordingMedia(m: RecordingMetaInput) {
  return {
    resourceType: 'Media' as const,
    id: m.recordingId,
    status: 'in-progress' as const,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/media-type', code: 'video', display: 'Video' }] },
    subject: { reference: `Patient/${m.patientId}` },
    encounter: { reference: `Encounter/${m.visitId}` },
    operator: { reference: `Practitioner/${m.operatorUserId}` },
    createdDateTime: m.createdAt.toISOString(),
    content: { contentType: m.mimeType, title: `Video visit recording ${m.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` },
  };
}

/** What main reads back out of a Media envelope (anything else in it is ignored). */
export const OpenedMediaSchema = z.object({
  resourceType: z.literal('Media'),
  createdDateTime: z.string().optional(),
  duration: z.number().nonnegative().optional(),
  content: z.object({ contentType: z.string().max(64).optional(), title: z.string().max(200).optional() }),
});
export type OpenedMedia = z.infer<typeof OpenedMediaSchema>;

export function sealMeta(m: RecordingMetaInput, k: SealingKey): Envelope {
  return sealJson({ recordId: m.recordingId, patientId: m.patientId, resourceType: RECORDING_META_TYPE, version: 1, keyId: k.keyId }, recordingMedia(m), k.key);
}

export function sealChunk(recordingId: string, patientId: string, seq: number, bytes: Uint8Array, k: SealingKey): Envelope {
  return seal({ recordId: recordingId, patientId, resourceType: RECORDING_CHUNK_TYPE, version: seq + 1, keyId: k.keyId }, bytes, k.key);
}

/** Checks the binding (this recording, this patient, the type and version a seq must have) before opening. */
function assertBinding(e: Envelope, recordingId: string, patientId: string, resourceType: string, version: number): void {
  if (e.recordId !== recordingId || e.patientId !== patientId || e.resourceType !== resourceType || e.version !== version) {
    throw new EhrError(ErrorCode.INTEGRITY, 'A recording envelope does not belong where the server put it; it was not opened.', { recordId: recordingId });
  }
}

export function openChunk(e: Envelope, recordingId: string, patientId: string, seq: number, key: Buffer): Buffer {
  assertBinding(e, recordingId, patientId, RECORDING_CHUNK_TYPE, seq + 1);
  return open(e, key);
}

export function openMeta(e: Envelope, recordingId: string, patientId: string, key: Buffer): OpenedMedia {
  assertBinding(e, recordingId, patientId, RECORDING_META_TYPE, 1);
  const parsed = OpenedMediaSchema.safeParse(openJson(e, key));
  if (!parsed.success) throw new EhrError(ErrorCode.INTEGRITY, 'A recording description is not a FHIR Media.', { recordId: recordingId });
  return parsed.data;
}
