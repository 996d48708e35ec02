/**
 * Which patients' keys this workstation may hold, from the server's GET /v1/me: the user's
 * care-team patients plus active break-glass grants. Keys of everyone else are dropped.
 */
import { KV, type SyncContext } from './context';

export interface ScopeReport {
  patientIds: string[];
  dropped: string[];
}

export async function reconcileScope(ctx: SyncContext): Promise<ScopeReport> {
  const me = await ctx.client.me({ signal: ctx.signal });
  const nowMs = ctx.now().getTime();
  const granted = me.breakGlassGrants.filter((g) => Date.parse(g.expiresAt) > nowMs);
  const allowed = new Set([...me.careTeamPatientIds, ...granted.map((g) => g.patientId)]);
  ctx.keys.dropExpired();
  const dropped = ctx.keys.retainOnly(allowed);
  ctx.vault.kv.setJson(KV.scope, { patientIds: [...allowed], at: ctx.now().toISOString() });
  return { patientIds: [...allowed], dropped };
}

