/**
 * Correcting the record from the chart: a note amended (same record, new version, docStatus
 * 'amended') and a vital sign marked entered in error (kept, struck through, out of the trends).
 * The pure builders, the display model, who is offered what, and the actions against a scripted
 * bridge: the version they save on, a change made elsewhere refused before writing, a refusal
 * from main turned into a PHI-free message with the typed text kept.
 */
import { describe, expect, it } from 'vitest';
import type { DocumentReference, Observation } from '@medplum/fhirtypes';
import { chartModel } from '../../src-renderer/chart/chart-model';
import {
  amendDraftKey, amendedNote, decodeAmendDraft, documentText, encodeAmendDraft, enteredInErrorObservation, enteredInErrorReason,
  ENTERED_IN_ERROR_REASON_URL, sameContent,
} from '../../src-renderer/chart/corrections';
import {
  correctionMessage, loadAmendDraft, markEnteredInError, progressNote, saveAmendDraft, saveAmendment, startAmendment,
} from '../../src-renderer/actions/record-actions';
import { canAmendNote, canMarkEnteredInError } from '../../src-renderer/app/permissions';
import { vitalObservation, VITAL_SIGNS } from '../../src-renderer/chart/vital-signs';
import { createEhrClient, EhrCallError } from '../../src-renderer/client/ehr-client';
import { createEhrStore } from '../../src-renderer/state/store';
import type { AppContext } from '../../src-renderer/actions/context';
import type { ApiResult, EhrBridge } from '../../src-shared/api/bridge';
import type { Chart, DraftSummary, RecordView } from '../../src-shared/api/types';

const CANARY = 'Canarywhistle';
const hr = VITAL_SIGNS[0]!;
const view = (id: string, resource: RecordView['resource'], version = 1, status: RecordView['status'] = 'synced'): RecordView => ({
  id, patientId: 'p1', resourceType: resource.resourceType as RecordView['resourceType'], version, status, updatedAt: 1_700_000_000_000, resource: { ...resource, id },
});
const obs = (value: number, at: string): Observation => vitalObservation(hr, value, 'p1', at);
const note = (author: string, text: string): DocumentReference => progressNote('p1', author, text, '2026-11-25T11:00:00Z');

describe('corrections: the FHIR they write', () => {
  it('entered in error changes the status and adds a coded reason, nothing else', () => {
    const o = { ...obs(188, '2026-11-25T10:00:00Z'), id: 'o1' };
    const e = enteredInErrorObservation(o, 'wrong-value');
    expect(e).toMatchObject({ id: 'o1', status: 'entered-in-error', valueQuantity: o.valueQuantity, code: o.code, category: o.category });
    expect(enteredInErrorReason(e)).toBe('wrong-value');
    // Marking twice keeps one reason (the latest).
    expect(enteredInErrorObservation(e, 'duplicate').extension?.filter((x) => x.url === ENTERED_IN_ERROR_REASON_URL)).toHaveLength(1);
    expect(o.status).toBe('final');
  });

  it('an amendment is the same note with new text and docStatus "amended"', () => {
    const n = { ...note('u-doc', 'Plan: fluids.'), id: 'n1' };
    const a = amendedNote(n, 'Plan: oral fluids 2 L — résumé ✓');
    expect(a).toMatchObject({ id: 'n1', docStatus: 'amended', author: n.author, date: n.date, subject: n.subject, type: n.type });
    expect(documentText(a)).toBe('Plan: oral fluids 2 L — résumé ✓');
    expect(documentText(n)).toBe('Plan: fluids.');
  });

  it('amendment drafts keep the text and what it amends; anything else is ignored', () => {
    const d = { baseVersion: 3, baseText: 'before', text: 'after' };
    expect(decodeAmendDraft(encodeAmendDraft(d))).toEqual(d);
    expect(decodeAmendDraft('plain text of a new note')).toBeNull();
    expect(decodeAmendDraft(JSON.stringify({ v: 1, baseVersion: -1, baseText: '', text: '' }))).toBeNull();
    expect(amendDraftKey('p1', 'n1')).not.toBe('progress-note:p1');
  });

  it('same content ignores meta and key order, not a changed value', () => {
    const a = { ...obs(64, '2026-11-25T10:00:00Z'), id: 'o1' };
    const b = { meta: { versionId: '2' }, ...JSON.parse(JSON.stringify(a)) as Observation };
    expect(sameContent(a, { ...b, meta: { versionId: '7' } })).toBe(true);
    expect(sameContent(a, { ...b, valueQuantity: { ...b.valueQuantity, value: 65 } })).toBe(false);
  });
});

describe('the chart model with corrections', () => {
  const chart: Chart = {
    patient: { resourceType: 'Patient', id: 'p1', name: [{ family: CANARY }] },
    access: 'care-team',
    records: [
      view('o1', obs(64, '2026-11-25T10:00:00Z')),
      view('o2', enteredInErrorObservation(obs(188, '2026-11-25T11:00:00Z'), 'wrong-value'), 2),
      view('o3', obs(70, '2026-11-24T10:00:00Z'), 1, 'deleted'),
      view('n1', amendedNote(note('u-doc', 'first'), 'second'), 2, 'pending'),
      view('n2', note('u-doc', 'other')),
    ],
  };
  const m = chartModel(chart);

  it('keeps an entered-in-error reading in the readings, struck, out of the trend and "latest"', () => {
    expect(m.vitals).toHaveLength(1);
    expect(m.vitals[0]!.points.map((p) => p.value)).toEqual([64]);
    expect(m.readings.map((r) => [r.id, r.value, r.enteredInError, r.reason])).toEqual([
      ['o2', 188, true, 'wrong-value'],
      ['o1', 64, false, ''],
    ]);
  });

  it('shows an amended note as signed and amended, with its authors', () => {
    const n1 = m.notes.find((n) => n.id === 'n1')!;
    expect(n1).toMatchObject({ text: 'second', amended: true, signed: true, enteredInError: false, status: 'pending', authors: ['Practitioner/u-doc'] });
    expect(m.notes.find((n) => n.id === 'n2')).toMatchObject({ amended: false, signed: true });
  });
});

describe('who is offered "Amend" and "Mark entered in error"', () => {
  const vital = { ...obs(64, '2026-11-25T10:00:00Z'), id: 'o1' };
  const lab: Observation = { resourceType: 'Observation', id: 'o9', status: 'final', code: { text: 'HbA1c' }, category: [{ coding: [{ code: 'laboratory' }] }] };
  const mine = { ...note('u-doc', 'x'), id: 'n1' };

  it('nurse and physician may mark a vital sign, not a lab result nor one already marked; billing nothing', () => {
    expect(canMarkEnteredInError(['nurse'], vital)).toBe(true);
    expect(canMarkEnteredInError(['physician'], vital)).toBe(true);
    expect(canMarkEnteredInError(['nurse'], lab)).toBe(false);
    expect(canMarkEnteredInError(['nurse'], enteredInErrorObservation(vital, 'duplicate'))).toBe(false);
    expect(canMarkEnteredInError(['billing'], vital)).toBe(false);
    expect(canMarkEnteredInError(['privacy_officer'], vital)).toBe(false);
    expect(canMarkEnteredInError(['nurse'], mine)).toBe(false);
  });

  it('a physician amends their own notes only; a nurse or billing none', () => {
    expect(canAmendNote(['physician'], 'u-doc', mine)).toBe(true);
    expect(canAmendNote(['physician'], 'u-doc2', mine)).toBe(false);
    expect(canAmendNote(['physician'], 'u-doc', { ...mine, author: undefined })).toBe(false);
    expect(canAmendNote(['nurse'], 'u-doc', mine)).toBe(false);
    expect(canAmendNote(['billing'], 'u-doc', mine)).toBe(false);
    expect(canAmendNote(['physician'], null, mine)).toBe(false);
    expect(canAmendNote(['physician'], 'u-doc', vital)).toBe(false);
  });
});

// --- the actions against a scripted core ----------------------------------------------------

type Handler = (input: unknown) => ApiResult<unknown>;
const ok = (value: unknown): ApiResult<unknown> => ({ ok: true, value });
const fail = (code: 'CONFLICT' | 'FORBIDDEN' | 'LOCKED', message: string): ApiResult<unknown> => ({ ok: false, error: { code, message } });

/** A tiny core: records by id (what records.get answers), drafts, and every call recorded. */
function scripted(records: RecordView[], overrides: Record<string, Handler> = {}) {
  const vault = new Map(records.map((r) => [r.id, r]));
  const drafts = new Map<string, { draftId: string; content: string }>();
  const calls: Array<[string, unknown]> = [];
  const handlers: Record<string, Handler> = {
    'records.get': (i) => {
      const r = vault.get((i as { recordId: string }).recordId);
      return r ? ok(r) : { ok: false, error: { code: 'NOT_FOUND', message: 'Not found.' } };
    },
    'records.save': (i) => {
      const { resource } = i as { resource: { id: string } };
      const before = vault.get(resource.id)!;
      vault.set(resource.id, { ...before, resource: resource as RecordView['resource'], status: 'pending' });
      return ok({ id: resource.id, version: before.version, mutationId: 'm1' });
    },
    'patients.open': () => ok({ patient: { resourceType: 'Patient', id: 'p1', name: [{ family: CANARY }] }, access: 'care-team', records: [...vault.values()] }),
    'drafts.list': () => ok([...drafts.entries()].map(([key, d]): DraftSummary => ({ draftId: d.draftId, key, patientId: 'p1', updatedAt: 0 }))),
    'drafts.get': (i) => ok({ ...[...drafts.values()].find((d) => d.draftId === (i as { draftId: string }).draftId), key: 'k', patientId: 'p1', updatedAt: 0 }),
    'drafts.save': (i) => {
      const { key, content } = i as { key: string; content: string };
      drafts.set(key, { draftId: `d-${drafts.size + 1}`, content });
      return ok({ draftId: drafts.get(key)!.draftId, key, patientId: 'p1', updatedAt: 0 });
    },
    'drafts.delete': (i) => {
      for (const [k, d] of drafts) if (d.draftId === (i as { draftId: string }).draftId) drafts.delete(k);
      return ok({ deleted: true });
    },
    ...overrides,
  };
  const bridge: EhrBridge = {
    invoke: (async (channel: string, input: unknown) => {
      calls.push([channel, input]);
      return handlers[channel]?.(input) ?? ok({});
    }) as EhrBridge['invoke'],
    on: (() => () => undefined) as unknown as EhrBridge['on'],
  };
  const store = createEhrStore();
  store.getState().signedIn({ userId: 'u-doc', username: 'doctor', displayName: 'Doctor', roles: ['physician'] });
  store.getState().navigate('chart', 'p1');
  const ctx: AppContext = { client: createEhrClient(bridge), store };
  const showChart = (rs: RecordView[]) => store.getState().putPhi(store.getState().phiEpoch, { chart: { patient: { resourceType: 'Patient', id: 'p1' }, access: 'care-team', records: rs } });
  const saves = () => calls.filter(([c]) => c === 'records.save').map(([, i]) => i as { resource: Observation & DocumentReference; baseVersion: number });
  return { ctx, vault, drafts, calls, showChart, saves };
}

describe('markEnteredInError', () => {
  const shown = view('o1', obs(188, '2026-11-25T10:00:00Z'), 0, 'pending');

  it('saves status entered-in-error with the reason, on the current version when only our own sync moved it', async () => {
    const h = scripted([{ ...shown, version: 1, status: 'synced', resource: { ...shown.resource, meta: { versionId: '1' } } }]);
    h.showChart([shown]);
    await markEnteredInError(h.ctx, 'p1', 'o1', 'wrong-value');
    const [save] = h.saves();
    expect(save).toMatchObject({ baseVersion: 1, resource: { id: 'o1', status: 'entered-in-error' } });
    expect(enteredInErrorReason(save!.resource)).toBe('wrong-value');
    // The chart is read again: the reading is now marked.
    expect(chartModel(h.ctx.store.getState().chart!).readings[0]).toMatchObject({ id: 'o1', enteredInError: true });
  });

  it('refuses, without writing, a reading whose value changed elsewhere, and shows the current one', async () => {
    const h = scripted([{ ...shown, version: 2, resource: { ...obs(99, '2026-11-25T10:00:00Z'), id: 'o1' } }]);
    h.showChart([shown]);
    const err = await markEnteredInError(h.ctx, 'p1', 'o1', 'wrong-value').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EhrCallError);
    expect((err as EhrCallError).code).toBe('CONFLICT');
    expect(h.saves()).toHaveLength(0);
    expect(chartModel(h.ctx.store.getState().chart!).readings[0]!.value).toBe(99);
    expect(correctionMessage(err, 'reading')).toContain('changed elsewhere');
  });

  it('a refusal by main (role) becomes a clear message naming no patient data', async () => {
    const h = scripted([shown], { 'records.save': () => fail('FORBIDDEN', 'Your role does not allow this action.') });
    h.showChart([shown]);
    const err = await markEnteredInError(h.ctx, 'p1', 'o1', 'duplicate').catch((e: unknown) => e);
    const msg = correctionMessage(err, 'reading');
    expect(msg).toBe('Your role does not allow changing this record. Nothing was saved.');
    expect(msg).not.toContain(CANARY);
  });
});

describe('amending a note', () => {
  const original = view('n1', note('u-doc', 'Plan: fluids.'), 1);

  it('starts from the note in the vault, saves on its version with docStatus amended, then drops the draft', async () => {
    const h = scripted([original]);
    h.showChart([original]);
    expect(await startAmendment(h.ctx, 'p1', 'n1')).toEqual({ version: 1, text: 'Plan: fluids.' });
    expect(h.ctx.store.getState().amendText).toBe('Plan: fluids.');
    await saveAmendDraft(h.ctx, 'p1', 'n1', { baseVersion: 1, baseText: 'Plan: fluids.', text: 'Plan: oral fluids.' });
    expect(h.drafts.size).toBe(1);
    await saveAmendment(h.ctx, 'p1', 'n1', { baseVersion: 1, baseText: 'Plan: fluids.', text: 'Plan: oral fluids.' });
    const [save] = h.saves();
    expect(save).toMatchObject({ baseVersion: 1, resource: { id: 'n1', docStatus: 'amended' } });
    expect(documentText(save!.resource)).toBe('Plan: oral fluids.');
    expect(h.drafts.size).toBe(0);
    expect(h.ctx.store.getState().amendText).toBe('');
    expect(chartModel(h.ctx.store.getState().chart!).notes[0]).toMatchObject({ text: 'Plan: oral fluids.', amended: true });
  });

  it('an amendment in progress comes back from its draft, with what it amends', async () => {
    const h = scripted([original]);
    await saveAmendDraft(h.ctx, 'p1', 'n1', { baseVersion: 1, baseText: 'Plan: fluids.', text: 'typed before the lock' });
    expect(await loadAmendDraft(h.ctx, 'p1', 'n1')).toEqual({ baseVersion: 1, baseText: 'Plan: fluids.', text: 'typed before the lock' });
    expect(h.ctx.store.getState().amendText).toBe('typed before the lock');
    // Lock: the text leaves the store (the draft stays in the vault).
    h.ctx.store.getState().locked('idle');
    expect(h.ctx.store.getState().amendText).toBe('');
    expect(h.drafts.size).toBe(1);
  });

  it('a note changed elsewhere is a conflict: nothing written, the draft kept', async () => {
    const h = scripted([{ ...original, version: 2, resource: { ...note('u-doc', 'Plan: fluids. Seen with family.'), id: 'n1' } }]);
    const draft = { baseVersion: 1, baseText: 'Plan: fluids.', text: 'Plan: oral fluids.' };
    await saveAmendDraft(h.ctx, 'p1', 'n1', draft);
    const err = await saveAmendment(h.ctx, 'p1', 'n1', draft).catch((e: unknown) => e);
    expect((err as EhrCallError).code).toBe('CONFLICT');
    expect(h.saves()).toHaveLength(0);
    expect(h.drafts.size).toBe(1);
    const msg = correctionMessage(err);
    expect(msg).toContain('your text is kept');
    expect(msg).not.toContain('fluids');
  });

  it('a version moved only by our own sync is no conflict (same text)', async () => {
    const h = scripted([{ ...original, version: 5 }]);
    await saveAmendment(h.ctx, 'p1', 'n1', { baseVersion: 1, baseText: 'Plan: fluids.', text: 'Plan: oral fluids.' });
    expect(h.saves()[0]).toMatchObject({ baseVersion: 5 });
  });

  it('refused by main (locked, conflict in its transaction): the draft is not deleted', async () => {
    for (const code of ['LOCKED', 'CONFLICT'] as const) {
      const h = scripted([original], { 'records.save': () => fail(code, 'Refused.') });
      const draft = { baseVersion: 1, baseText: 'Plan: fluids.', text: 'Plan: oral fluids.' };
      await saveAmendDraft(h.ctx, 'p1', 'n1', draft);
      await expect(saveAmendment(h.ctx, 'p1', 'n1', draft)).rejects.toMatchObject({ code });
      expect(h.drafts.size).toBe(1);
      expect(h.calls.some(([c]) => c === 'drafts.delete')).toBe(false);
    }
    expect(correctionMessage(new EhrCallError('LOCKED', 'Locked.', 'records.save'))).toContain('Nothing was saved');
  });
});
