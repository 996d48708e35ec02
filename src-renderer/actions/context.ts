/**
 * What every action needs: the typed client and the store. Passed in (not imported) so tests and
 * the benchmark run the same actions against a bridge and a store of their own.
 */
import type { EhrClient } from '../client/ehr-client';
import type { EhrStore } from '../state/store';
import type { PhiData } from '../state/patient-slice';

export interface AppContext {
  client: EhrClient;
  store: EhrStore;
}

/**
 * Fetch PHI and put it in the store only if no lock or logout happened in between (the epoch
 * check in putPhi). Returns the value, or null when it was dropped.
 */
export async function fetchPhi<T>(ctx: AppContext, fetch: () => Promise<T>, put: (value: T) => Partial<PhiData>): Promise<T | null> {
  const epoch = ctx.store.getState().phiEpoch;
  const value = await fetch();
  return ctx.store.getState().putPhi(epoch, put(value)) ? value : null;
}
