/**
 * The privacy officer's clinic-wide review queue (privacy.* channels). What it shows names
 * patients and quotes justifications, so it lives in the PHI slice: dropped on lock and logout,
 * and an answer that arrives after a lock is discarded (fetchPhi).
 */
import type { AppContext } from './context';
import { fetchPhi } from './context';
import type { AuditEventBundle, Disposition, ReviewItem, ReviewSubject } from '../../src-shared/api/types';

export async function loadReviewQueue(ctx: AppContext, open: boolean): Promise<void> {
  await fetchPhi(ctx, () => ctx.client.call('privacy.queue', { open }), (reviewQueue) => ({ reviewQueue }));
}

export async function openEpisode(ctx: AppContext, subject: ReviewSubject, id: string): Promise<void> {
  await fetchPhi(ctx, () => ctx.client.call('privacy.episode', { subject, id }), (reviewEpisode) => ({ reviewEpisode }));
}

export function closeEpisode(ctx: AppContext): void {
  const s = ctx.store.getState();
  s.putPhi(s.phiEpoch, { reviewEpisode: null });
}

/** Ends the review with a disposition and a note; the queue row and the open episode show it at once. */
export async function disposeItem(ctx: AppContext, item: Pick<ReviewItem, 'subject' | 'id'>, disposition: Disposition, note: string): Promise<ReviewItem | null> {
  return fetchPhi(ctx, () => ctx.client.call('privacy.dispose', { subject: item.subject, id: item.id, disposition, note }), (updated) => {
    const s = ctx.store.getState();
    const same = (r: ReviewItem) => r.subject === updated.subject && r.id === updated.id;
    return {
      reviewQueue: s.reviewQueue.map((r) => (same(r) ? updated : r)),
      ...(s.reviewEpisode && same(s.reviewEpisode.item) ? { reviewEpisode: { ...s.reviewEpisode, item: updated } } : {}),
    };
  });
}

/** Suspend or reinstate the account an item is about; the rows about that user show the new status. */
export async function setAccountStatus(ctx: AppContext, userId: string, action: 'suspend' | 'reinstate', note: string): Promise<void> {
  const channel = action === 'suspend' ? 'privacy.suspendUser' : 'privacy.reinstateUser';
  await fetchPhi(ctx, () => ctx.client.call(channel, { userId, note }), ({ status }) => {
    const s = ctx.store.getState();
    const upd = (r: ReviewItem): ReviewItem => (r.userId === userId ? { ...r, userStatus: status } : r);
    return { reviewQueue: s.reviewQueue.map(upd), ...(s.reviewEpisode ? { reviewEpisode: { ...s.reviewEpisode, item: upd(s.reviewEpisode.item) } } : {}) };
  });
}

/** The recording access log, for one patient or clinic-wide (newest first, at most 200 rows). */
export async function loadRecordingAccess(ctx: AppContext, patientId: string | null): Promise<void> {
  await fetchPhi(ctx, () => ctx.client.call('privacy.recordingAccess', patientId ? { patientId } : {}), (recordingAccess) => ({ recordingAccess }));
}

export function exportEpisode(ctx: AppContext, item: Pick<ReviewItem, 'subject' | 'id'>): Promise<AuditEventBundle> {
  return ctx.client.call('privacy.export', { subject: item.subject, id: item.id });
}
