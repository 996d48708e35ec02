/**
 * Which patients' keys this workstation may hold, from the server's GET /v1/me: the user's
 * care-team patients plus active break-glass grants. Keys of everyone else are dropped; keys held
 * only through a grant carry the grant's expiry.
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
  // Keys of a break-glass patient (not on a care team) are cached to expire with the grant, so they
  // go on time even if this workstation is offline when the grant ends.
  const careTeam = new Set(me.careTeamPatientIds);
  for (const g of granted) {
    if (!careTeam.has(g.patientId)) await ctx.keys.fetchForGrant(g.patientId, g.expiresAt);
  }
  ctx.keys.dropExpired();
  const dropped = ctx.keys.retainOnly(allowed);
  ctx.vault.kv.setJson(KV.scope, { patientIds: [...allowed], at: ctx.now().toISOString() });
  return { patientIds: [...allowed], dropped };
}

