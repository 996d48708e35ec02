/**
 * The privacy officer's console: the queue shows every kind (an alert kind unknown to this build
 * too), an episode shows justification, duration and the records read, a disposition updates the
 * row at once, and a lock drops all of it (it names patients and quotes justifications).
 */
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { AppProvider } from '../../src-renderer/app/app-context';
import { createEhrClient } from '../../src-renderer/client/ehr-client';
import { createEhrStore } from '../../src-renderer/state/store';
import { disposeItem, loadRecordingAccess, loadReviewQueue, openEpisode } from '../../src-renderer/actions/privacy-actions';
import { PrivacyScreen } from '../../src-renderer/screens/PrivacyScreen';
import type { AppContext } from '../../src-renderer/actions/context';
import type { EhrBridge } from '../../src-shared/api/bridge';
import type { ReviewItem } from '../../src-shared/api/types';

const item = (over: Partial<ReviewItem>): ReviewItem => ({
  subject: 'break-glass', id: 'g1', alertKind: 'break-glass', severity: 'high', userId: 'u-nurse', patientId: 'p-9', raisedAt: '2026-12-01T10:00:00.000Z',
  reason: 'ETREAT', justification: 'Collapsed in the corridor, Zebediah', startsAt: '2026-12-01T10:00:00.000Z', endsAt: '2026-12-01T11:00:00.000Z',
  durationMinutes: 60, userStatus: 'active', detail: {}, dispositions: [], ...over,
});
const ACCESS = [
  { recordingId: 'rec-7', patientId: 'p-9', userId: 'u-doc', action: 'record', at: '2026-12-01T09:00:00.000Z', deviceId: 'dev-a' },
  { recordingId: 'rec-7', patientId: 'p-9', userId: 'u-nurse', action: 'view', at: '2026-12-01T12:00:00.000Z', deviceId: 'dev-b' },
];
const QUEUE = [item({}), item({ subject: 'alert', id: 'a1', alertKind: 'forged-chain', reason: null, justification: null, startsAt: null, endsAt: null, durationMinutes: null })];

function setup() {
  const calls: Array<[string, unknown]> = [];
  const bridge = {
    invoke: async (channel: string, input: unknown) => {
      calls.push([channel, input]);
      if (channel === 'privacy.queue') return { ok: true, value: QUEUE };
      if (channel === 'privacy.recordingAccess') return { ok: true, value: ACCESS };
      if (channel === 'privacy.episode') return { ok: true, value: { item: QUEUE[0], reads: [{ source: 'device', at: '2026-12-01T10:05:00.000Z', type: 'read', action: 'R', deviceId: 'dev-ward-b', resourceRefs: ['Observation/o-77'] }] } };
      if (channel === 'privacy.dispose') {
        const i = input as { disposition: 'appropriate'; note: string };
        return { ok: true, value: { ...QUEUE[0], dispositions: [{ disposition: i.disposition, note: i.note, reviewerId: 'u-priv', at: '2026-12-02T09:00:00.000Z' }] } };
      }
      return { ok: true, value: {} };
    },
    on: () => () => undefined,
  } as unknown as EhrBridge;
  const ctx: AppContext = { client: createEhrClient(bridge), store: createEhrStore() };
  ctx.store.getState().signedIn({ userId: 'u-priv', username: 'privacy', displayName: 'Priya', roles: ['privacy_officer'] });
  return { ctx, calls };
}
const render = (ctx: AppContext) => {
  Object.assign(ctx.store, { getInitialState: () => ctx.store.getState() });
  return renderToStaticMarkup(<AppProvider ctx={ctx}><PrivacyScreen /></AppProvider>);
};

describe('privacy console', () => {
  it('lists every kind, opens an episode with its justification, duration and reads, and records a disposition', async () => {
    const { ctx, calls } = setup();
    await loadReviewQueue(ctx, true);
    let html = render(ctx);
    expect(html).toContain('Alert: forged-chain');
    expect(html).toContain('60 min');
    await openEpisode(ctx, 'break-glass', 'g1');
    html = render(ctx);
    expect(html).toContain('Collapsed in the corridor');
    expect(html).toContain('Observation/o-77');
    expect(html).toContain('Record disposition');
    await disposeItem(ctx, QUEUE[0]!, 'appropriate', 'ED admission, fine');
    expect(calls.at(-1)).toEqual(['privacy.dispose', { subject: 'break-glass', id: 'g1', disposition: 'appropriate', note: 'ED admission, fine' }]);
    html = render(ctx);
    expect(html).toMatch(/<strong>appropriate<\/strong> by u-priv/);
    expect(ctx.store.getState().reviewQueue[0]!.dispositions).toHaveLength(1);
  });

  it('a lock drops the queue and the episode', async () => {
    const { ctx } = setup();
    await loadReviewQueue(ctx, true);
    await openEpisode(ctx, 'break-glass', 'g1');
    ctx.store.getState().locked('idle');
    const s = ctx.store.getState();
    expect(s.reviewQueue).toEqual([]);
    expect(s.reviewEpisode).toBeNull();
    expect(JSON.stringify(s)).not.toContain('Zebediah');
  });

  it('shows the recording access log (who viewed which recording, when) for a patient, and a lock drops it', async () => {
    const { ctx, calls } = setup();
    await loadRecordingAccess(ctx, 'p-9');
    expect(calls.at(-1)).toEqual(['privacy.recordingAccess', { patientId: 'p-9' }]);
    expect(ctx.store.getState().recordingAccess.map((r) => `${r.action}:${r.userId}`)).toEqual(['record:u-doc', 'view:u-nurse']);
    ctx.store.getState().locked('idle');
    expect(ctx.store.getState().recordingAccess).toEqual([]);
  });
});
