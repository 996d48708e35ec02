/**
 * Clinical writes: vitals (nurse), progress notes with autosaved drafts (physician), and
 * corrections (amend a note, mark a vital sign entered in error).
 * Drafts live in the vault through the drafts channels (encrypted, per user), never in web storage.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import type { AppContext } from './context';
import { fetchPhi } from './context';
import { reloadChart } from './patient-actions';
import { vitalObservation, type VitalSign } from '../chart/vital-signs';
import { encodeBase64Text } from '../chart/fhir-text';
import {
  amendDraftKey, amendedNote, decodeAmendDraft, documentText, encodeAmendDraft, enteredInErrorObservation, isDocumentReference, isObservation,
  sameContent, type AmendDraft, type EnteredInErrorReason,
} from '../chart/corrections';
import { EhrCallError, errorCode } from '../client/ehr-client';
import type { PhiData } from '../state/patient-slice';
import type { RecordView, SaveResult } from '../../src-shared/api/types';

export type VitalReading = { vital: VitalSign; value: number };

/**
 * One submission of the vitals form. Its requestId and time are fixed when the nurse first presses
 * Save, and kept while the readings stay the same: pressing Save again after an error (a lost
 * answer, a lock, a failed chart reload) retries the SAME request, which main answers without
 * writing the readings twice.
 */
export interface VitalsSubmission {
  requestId: string;
  patientId: string;
  effective: string;
  readings: VitalReading[];
}

const sameReadings = (a: VitalReading[], b: VitalReading[]): boolean =>
  a.length === b.length && a.every((r, i) => r.vital.key === b[i]?.vital.key && r.value === b[i]?.value);

/** The previous submission when this is a retry of the same readings for the same patient, else a new one. */
export function vitalsSubmission(previous: VitalsSubmission | null, patientId: string, readings: VitalReading[], now: Date): VitalsSubmission {
  if (previous && previous.patientId === patientId && sameReadings(previous.readings, readings)) return previous;
  return { requestId: crypto.randomUUID(), patientId, effective: now.toISOString(), readings };
}

/** Every reading of the submission in one call (records.createBatch): all are saved, or none. */
export async function saveVitals(ctx: AppContext, submission: VitalsSubmission): Promise<number> {
  const { requestId, patientId, effective, readings } = submission;
  const resources = readings.map(({ vital, value }) => ({ ...vitalObservation(vital, value, patientId, effective) }));
  const saved = await ctx.client.call('records.createBatch', { patientId, requestId, resources });
  await reloadChart(ctx);
  return saved.results.length;
}

/** One draft per user and patient: the vault keys it by user, we key it by patient. */
export const noteDraftKey = (patientId: string): string => `progress-note:${patientId}`;

/** Bring back the note being written for this patient, if a draft exists. */
export async function loadNoteDraft(ctx: AppContext, patientId: string): Promise<string | null> {
  const key = noteDraftKey(patientId);
  const list = await ctx.client.call('drafts.list', {});
  const found = list.find((d) => d.key === key);
  if (!found) return null;
  const draft = await fetchPhi(ctx, () => ctx.client.call('drafts.get', { draftId: found.draftId }), (d) => ({ noteText: d.content }));
  return draft?.content ?? null;
}

export async function saveNoteDraft(ctx: AppContext, patientId: string, content: string): Promise<void> {
  await ctx.client.call('drafts.save', { key: noteDraftKey(patientId), patientId, content });
}

export function progressNote(patientId: string, authorId: string, text: string, when: string): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }], text: 'Progress note' },
    subject: { reference: `Patient/${patientId}` },
    date: when,
    author: [{ reference: `Practitioner/${authorId}` }],
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: encodeBase64Text(text) } }],
  };
}

/** Sign: save the note as final, then delete the draft (a signed note no longer needs one). */
export async function signNote(ctx: AppContext, patientId: string, text: string, when: string): Promise<void> {
  const user = ctx.store.getState().user;
  if (!user) throw new Error('not signed in');
  await ctx.client.call('records.save', { patientId, resource: { ...progressNote(patientId, user.userId, text, when) } });
  const key = noteDraftKey(patientId);
  const drafts = await ctx.client.call('drafts.list', {});
  for (const d of drafts.filter((x) => x.key === key)) await ctx.client.call('drafts.delete', { draftId: d.draftId });
  const s = ctx.store.getState();
  s.putPhi(s.phiEpoch, { noteText: '' });
  await reloadChart(ctx);
}

// --- corrections: amend a note, mark a vital sign entered in error ---------------------------

/** The record as the open chart holds it: the version the clinician is looking at. */
export function chartRecord(ctx: AppContext, recordId: string): RecordView | undefined {
  return ctx.store.getState().chart?.records.find((r) => r.id === recordId && r.status !== 'deleted');
}

function missing(): EhrCallError {
  return new EhrCallError('NOT_FOUND', 'This record is no longer in the chart.', 'records.save');
}

/** Bring back an amendment in progress (text + the version it amends), into `amendText`. */
export async function loadAmendDraft(ctx: AppContext, patientId: string, recordId: string): Promise<AmendDraft | null> {
  const key = amendDraftKey(patientId, recordId);
  const list = await ctx.client.call('drafts.list', {});
  const found = list.find((d) => d.key === key);
  if (!found) return null;
  const draft = await fetchPhi(
    ctx,
    async () => decodeAmendDraft((await ctx.client.call('drafts.get', { draftId: found.draftId })).content),
    (d): Partial<PhiData> => (d ? { amendText: d.text } : {}),
  );
  return draft ?? null;
}

/** Start amending from the note as it is now in the vault (not the chart read earlier): its text goes to `amendText`. */
export async function startAmendment(ctx: AppContext, patientId: string, recordId: string): Promise<{ version: number; text: string } | null> {
  return fetchPhi(
    ctx,
    async () => {
      const rec = await currentRecord(ctx, patientId, recordId);
      if (!isDocumentReference(rec.resource)) throw missing();
      return { version: rec.version, text: documentText(rec.resource) };
    },
    (base) => ({ amendText: base.text }),
  );
}

export async function saveAmendDraft(ctx: AppContext, patientId: string, recordId: string, draft: AmendDraft): Promise<void> {
  await ctx.client.call('drafts.save', { key: amendDraftKey(patientId, recordId), patientId, content: encodeAmendDraft(draft) });
}

export async function deleteAmendDraft(ctx: AppContext, patientId: string, recordId: string): Promise<void> {
  const key = amendDraftKey(patientId, recordId);
  const drafts = await ctx.client.call('drafts.list', {});
  for (const d of drafts.filter((x) => x.key === key)) await ctx.client.call('drafts.delete', { draftId: d.draftId });
}

/** A change made elsewhere since the clinician looked: refused here, before anything is written. */
function changedElsewhere(): EhrCallError {
  return new EhrCallError('CONFLICT', 'This record changed since it was opened.', 'records.save');
}

/** The record as it is in the vault now (an audited read), or NOT_FOUND. */
async function currentRecord(ctx: AppContext, patientId: string, recordId: string): Promise<RecordView> {
  return ctx.client.call('records.get', { patientId, recordId });
}

/**
 * Save the amendment as an update of the note it amends. The record's version may have moved only
 * because this workstation's own earlier change came back from the server (the chart on screen was
 * read before that sync, and versions change only there): so the test is the content. If the
 * note's text is still what the clinician started amending, the save goes on the current version
 * (and main checks that version again in its transaction); if the text changed, it is a CONFLICT
 * and nothing is written. Only after the save is the draft deleted.
 */
export async function saveAmendment(ctx: AppContext, patientId: string, recordId: string, draft: AmendDraft): Promise<SaveResult> {
  const rec = await currentRecord(ctx, patientId, recordId);
  if (!isDocumentReference(rec.resource)) throw missing();
  if (documentText(rec.resource) !== draft.baseText) throw changedElsewhere();
  const result = await ctx.client.call('records.save', { patientId, resource: { ...amendedNote(rec.resource, draft.text) }, baseVersion: rec.version });
  await deleteAmendDraft(ctx, patientId, recordId).catch(() => undefined);
  const s = ctx.store.getState();
  s.putPhi(s.phiEpoch, { amendText: '' });
  await reloadChart(ctx);
  return result;
}

/**
 * Mark a vital-sign Observation entered in error, as an update with a coded reason. Only if the
 * reading is still what the chart showed (same content, `meta` aside; see saveAmendment on
 * versions); otherwise CONFLICT, and the chart is re-read so the clinician sees the current value.
 */
export async function markEnteredInError(ctx: AppContext, patientId: string, recordId: string, reason: EnteredInErrorReason): Promise<SaveResult> {
  const shown = chartRecord(ctx, recordId);
  if (!shown || !isObservation(shown.resource)) throw missing();
  const rec = await currentRecord(ctx, patientId, recordId);
  if (!isObservation(rec.resource)) throw missing();
  if (!sameContent(rec.resource, shown.resource)) {
    await reloadChart(ctx).catch(() => undefined);
    throw changedElsewhere();
  }
  const result = await ctx.client.call('records.save', { patientId, resource: { ...enteredInErrorObservation(rec.resource, reason) }, baseVersion: rec.version });
  await reloadChart(ctx);
  return result;
}

/**
 * A refused correction in words the clinician can act on. PHI-free: fixed sentences, or main's
 * message (PHI-free by contract). Every one says what happened to their work.
 */
export function correctionMessage(e: unknown, what: 'note' | 'reading' = 'note'): string {
  switch (errorCode(e)) {
    case 'CONFLICT':
      return what === 'note'
        ? 'This note was changed elsewhere since you started amending it (another workstation or a sync). Nothing was saved; your text is kept.'
        : 'This reading was changed elsewhere since the chart was opened. Nothing was saved; the chart now shows the current version.';
    case 'FORBIDDEN':
      return 'Your role does not allow changing this record. Nothing was saved.';
    case 'LOCKED':
    case 'NO_SESSION':
      return 'The session is locked or signed out. Nothing was saved; sign in and try again.';
    case 'NOT_FOUND':
      return 'This record is no longer in the chart. Nothing was saved.';
    case 'INVALID':
    case 'TOO_LARGE':
      return `The change was refused as invalid: ${(e as EhrCallError).message} Nothing was saved.`;
    default:
      return e instanceof EhrCallError ? `${e.message} Nothing was saved.` : 'The change could not be saved. Try again, or call IT if it keeps happening.';
  }
}
