/** Sync status, sync now, and conflicts (both versions side by side, the clinician chooses). */
import type { AppContext } from './context';
import { fetchPhi } from './context';
import type { Resource } from '@medplum/fhirtypes';
import type { ConflictView } from '../state/phi-types';
import type { ConflictSummary } from '../../src-shared/api/types';

export async function refreshSync(ctx: AppContext): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.status', {}));
}

export async function syncNow(ctx: AppContext): Promise<void> {
  ctx.store.getState().syncStatus(await ctx.client.call('sync.now', {}));
}

/**
 * The core's conflict entries carry both versions (`mine`, `theirs`) beyond the contract's
 * ConflictSummary; read them when present, else fall back to records.get for the local one.
 */
function versionOf(summary: ConflictSummary, side: 'mine' | 'theirs'): Resource | null {
  const v = (summary as unknown as Record<string, unknown>)[side];
  const r = v && typeof v === 'object' ? (v as { resource?: unknown }).resource : undefined;
  return r && typeof r === 'object' && 'resourceType' in r ? (r as Resource) : null;
}

export async function loadConflicts(ctx: AppContext): Promise<ConflictView[] | null> {
  return fetchPhi(
    ctx,
    async () => {
      const list = await ctx.client.call('sync.conflicts', {});
      return Promise.all(
        list.map(async (summary): Promise<ConflictView> => {
          const local = versionOf(summary, 'mine') ?? (await ctx.client
            .call('records.get', { patientId: summary.patientId, recordId: summary.recordId })
            .then((r) => r.resource, () => null));
          return { summary, local, server: versionOf(summary, 'theirs') };
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
