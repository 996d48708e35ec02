/**
 * The chart screen's correction actions, rendered (React's server renderer, no DOM needed): who
 * sees "Amend note" and "Mark entered in error", and how an entered-in-error reading and an
 * amended note look (struck through and labelled; not colour alone).
 */
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { AppProvider } from '../../src-renderer/app/app-context';
import { ChartScreen } from '../../src-renderer/screens/ChartScreen';
import { NoteScreen } from '../../src-renderer/screens/NoteScreen';
import { createEhrStore } from '../../src-renderer/state/store';
import { createEhrClient } from '../../src-renderer/client/ehr-client';
import { progressNote } from '../../src-renderer/actions/record-actions';
import { amendedNote, enteredInErrorObservation } from '../../src-renderer/chart/corrections';
import { vitalObservation, VITAL_SIGNS } from '../../src-renderer/chart/vital-signs';
import type { Role } from '../../src-shared/access';
import type { EhrBridge } from '../../src-shared/api/bridge';
import type { Chart, RecordView } from '../../src-shared/api/types';

const hr = VITAL_SIGNS[0]!;
const view = (id: string, resource: RecordView['resource'], version = 1): RecordView => ({
  id, patientId: 'p1', resourceType: resource.resourceType as RecordView['resourceType'], version, status: 'synced', updatedAt: 1_700_000_000_000, resource: { ...resource, id },
});
const chart: Chart = {
  patient: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Testperson' }] },
  access: 'care-team',
  records: [
    view('o1', vitalObservation(hr, 64, 'p1', '2026-11-25T10:00:00Z')),
    view('o2', enteredInErrorObservation(vitalObservation(hr, 188, 'p1', '2026-11-25T11:00:00Z'), 'wrong-value'), 2),
    view('n-mine', amendedNote(progressNote('p1', 'u-doc', 'My note', '2026-11-25T12:00:00Z'), 'My note, amended'), 2),
    view('n-other', progressNote('p1', 'u-other', 'Colleague note', '2026-11-25T09:00:00Z')),
  ],
};

function render(roles: Role[], userId: string, screen: 'chart' | 'note' = 'chart', recordId: string | null = null): string {
  const store = createEhrStore();
  store.getState().signedIn({ userId, username: 'x', displayName: 'X', roles });
  store.getState().putPhi(store.getState().phiEpoch, { chart });
  store.getState().navigate(screen, 'p1', recordId);
  // The server renderer reads zustand's "server snapshot" (the initial state): make it the current one.
  Object.assign(store, { getInitialState: () => store.getState() });
  const bridge = { invoke: async () => ({ ok: true, value: [] }), on: () => () => undefined } as unknown as EhrBridge;
  const ctx = { client: createEhrClient(bridge), store };
  return renderToStaticMarkup(<AppProvider ctx={ctx}>{screen === 'chart' ? <ChartScreen /> : <NoteScreen />}</AppProvider>);
}
const count = (html: string, text: string) => html.split(text).length - 1;

describe('chart screen: corrections', () => {
  it('a physician gets "Amend note" on their own note only, and "Mark entered in error" on valid readings', () => {
    const html = render(['physician'], 'u-doc');
    expect(count(html, '>Amend note</button>')).toBe(1);
    expect(count(html, '>Mark entered in error</button>')).toBe(1);
    expect(html).toContain('aria-label="Mark entered in error: Heart rate 64');
    expect(html).toContain('aria-describedby="note-n-mine"');
  });

  it('a nurse may mark readings but amend no note', () => {
    const nurse = render(['nurse'], 'u-nurse');
    expect(count(nurse, '>Mark entered in error</button>')).toBe(1);
    expect(count(nurse, '>Amend note</button>')).toBe(0);
  });

  it('an entered-in-error reading stays listed, struck through and labelled with its reason; the trend leaves it out', () => {
    const html = render(['nurse'], 'u-nurse');
    expect(html).toMatch(/<tr class="entered-in-error"[^>]*data-entered-in-error="true"><td><s>Heart rate<\/s><\/td><td class="nowrap"><s>188 beats\/min<\/s>/);
    expect(html).toContain('Entered in error</span>');
    expect(html).toContain('Wrong value or unit');
    expect(html).toMatch(/aria-label="Heart rate trend, last 1 values, from 64 to 64/);
  });

  it('an amended note shows its amended text and an "amended" label', () => {
    const html = render(['physician'], 'u-doc');
    expect(html).toContain('My note, amended');
    expect(html).toContain('data-testid="note-amended">amended</span>');
  });

  it('the note screen in amend mode is titled for it and has a labelled editor', () => {
    const html = render(['physician'], 'u-doc', 'note', 'n-mine');
    expect(html).toContain('<h1>Amend progress note</h1>');
    expect(html).toContain('<label for="amend-text">Amended note');
    expect(html).toContain('Save amendment');
    expect(render(['physician'], 'u-doc', 'note')).toContain('<h1>Progress note</h1>');
  });
});
