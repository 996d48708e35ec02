/** Sync status, sync now, and conflicts (both versions side by side, the clinician chooses). */
import type { AppContext } from './context';
import { fetchPhi } from './context';
import type { ConflictView } from '../state/phi-types';

export async function refreshSync(ctx: AppContext): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.status', {}));
}

export async function syncNow(ctx: AppContext): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.now', {}));
}

export async function loadConflicts(ctx: AppContext): Promise<ConflictView[] | null> {
  return fetchPhi(
    ctx,
    async () => {
      const list = await ctx.client.call('sync.conflicts', {});
      // The contract carries both versions: this workstation's (mine) and the server's (theirs).
      return list.map((summary): ConflictView => ({ summary, local: summary.mine.resource, server: summary.theirs.resource }));
    },
    (conflicts) => ({ conflicts }),
  );
}

export async function resolveConflict(ctx: AppContext, conflictId: string, choice: 'local' | 'server'): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.resolve', { conflictId, choice }));
  await loadConflicts(ctx);
}
