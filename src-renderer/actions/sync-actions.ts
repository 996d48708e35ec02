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

/**
 * Load conflicts with the local version of each record. The contract's conflict summary carries
 * versions, not the server's copy: the server side shows what records.get returns for it, which
 * after a conflict is the workstation's view (see docs/renderer.md, "gaps").
 */
export async function loadConflicts(ctx: AppContext): Promise<ConflictView[] | null> {
  return fetchPhi(
    ctx,
    async () => {
      const list = await ctx.client.call('sync.conflicts', {});
      return Promise.all(
        list.map(async (summary): Promise<ConflictView> => {
          const local = await ctx.client
            .call('records.get', { patientId: summary.patientId, recordId: summary.recordId })
            .catch(() => null);
          return { summary, local, server: null };
        }),
      );
    },
    (conflicts) => ({ conflicts }),
  );
}

export async function resolveConflict(ctx: AppContext, conflictId: string, choice: 'local' | 'server'): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.resolve', { conflictId, choice }));
  await loadConflicts(ctx);
}
