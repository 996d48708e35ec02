/**
 * Which patients this workstation may hold, from the server's GET /v1/me (every cycle, automatic or
 * not): the user's care-team patients plus active break-glass grants.
 *
 * - On a shared workstation the other users' patients (`sharedScope`) stay as well: the vault holds
 *   the union of the scopes of the users who sign in there; what each may READ is decided per user.
 * - Everyone else's keys AND cached chart are dropped (`keys.retainOnly` -> `vault.purgePatient`);
 *   unsent work of theirs stays in the outbox, held `access-ended`.
 * - Keys held only through a grant carry the grant's expiry (fetched once per grant, not per cycle).
 * - A patient who entered the scope since the last reconcile (grant, care-team addition) gets its
 *   held work released and its older records pulled by patient (`queueHistory`).
 */
import type { MeResponse } from '../../../src-shared/sync/auth';
import { ACCESS_HOLD_CODES } from '../vault';
import { KV, type SyncContext } from './context';
import { queueHistory } from './pull';
import { forgetPurgedInStash } from './user-pull-state';

export interface ScopeReport {
  patientIds: string[];
  dropped: string[];
  /** Patients allowed now that were not at the previous reconcile (none on the very first one). */
  added: string[];
  /** The server's answer (ids, roles and grant times only). */
  me: MeResponse;
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
  // A shared workstation keeps what its other users hold too: the vault is the union of their scopes.
  const kept = new Set([...allowed, ...(ctx.sharedScope?.(me.user.id) ?? [])]);
  const dropped = ctx.keys.retainOnly(kept, new Set(ctx.keepCharts?.() ?? []));
  const previous = ctx.vault.kv.getJson<{ patientIds: string[] }>(KV.scope)?.patientIds;
  // The first reconcile follows the first full pull, which brought everything visible then.
  const before = previous ? new Set(previous) : null;
  const added = before ? [...allowed].filter((p) => !before.has(p)) : [];
  ctx.vault.transaction(() => {
    for (const p of added) ctx.vault.outbox.releaseForPatient(p, ACCESS_HOLD_CODES, ctx.now());
    queueHistory(ctx, added);
    ctx.vault.kv.setJson(KV.scope, { patientIds: [...allowed], at: ctx.now().toISOString() });
    forgetPurgedInStash(ctx, dropped);
  });
  return { patientIds: [...allowed], dropped, added, me };
}
