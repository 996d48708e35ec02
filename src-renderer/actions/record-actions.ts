/**
 * Clinical writes: vitals (nurse), progress notes with autosaved drafts (physician).
 * Drafts live in the vault through the drafts channels (encrypted, per user), never in web storage.
 */
import type { DocumentReference } from '@medplum/fhirtypes';
import type { AppContext } from './context';
import { fetchPhi } from './context';
import { reloadChart } from './patient-actions';
import { vitalObservation, type VitalSign } from '../chart/vital-signs';
import { encodeBase64Text } from '../chart/fhir-text';

export async function saveVitals(ctx: AppContext, patientId: string, values: Array<{ vital: VitalSign; value: number }>, effective: string): Promise<number> {
  for (const { vital, value } of values) {
    await ctx.client.call('records.save', { patientId, resource: { ...vitalObservation(vital, value, patientId, effective) } });
  }
  await reloadChart(ctx);
  return values.length;
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
