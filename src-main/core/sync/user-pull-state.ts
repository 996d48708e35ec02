/**
 * Pull state per user on a shared workstation. The server answers a pull with what the signed-in
 * user may see, so one cursor for the whole device would let a colleague's pull move past records
 * of patients only the first user sees, and they would never arrive. Each user who syncs here has
 * their own cursor, progress count, last scope and history queue.
 *
 * The live kv keys (KV.pullCursor, KV.pullReceived, KV.scope, KV.history) stay those of the user
 * in KV.pullOwner, so the rest of the engine reads them unchanged; the others wait in KV.pullUsers
 * and are swapped in when their user's tokens are the ones syncing. A vault from before this had no
 * owner: its state is adopted by the first user who syncs (a patient that user gains is "added" by
 * the scope reconcile and pulled by patient, so nothing the previous owner's cursor passed is lost).
 */
import { KV, type SyncContext } from './context';

interface UserPullState {
  cursor: string | null;
  received: string | null;
  scope: { patientIds: string[]; at?: string } | null;
  history: Record<string, string> | null;
}
type Stash = Record<string, UserPullState>;

const LIVE = { cursor: KV.pullCursor, received: KV.pullReceived } as const;

function readLive(ctx: SyncContext): UserPullState {
  const kv = ctx.vault.kv;
  return {
    cursor: kv.get(LIVE.cursor),
    received: kv.get(LIVE.received),
    scope: kv.getJson<UserPullState['scope']>(KV.scope),
    history: kv.getJson<UserPullState['history']>(KV.history),
  };
}

function writeLive(ctx: SyncContext, s: UserPullState | undefined): void {
  const kv = ctx.vault.kv;
  const put = (key: string, v: string | null | undefined): void => {
    if (v === null || v === undefined) kv.delete(key);
    else kv.set(key, v);
  };
  put(LIVE.cursor, s?.cursor);
  put(LIVE.received, s?.received);
  if (s?.scope) kv.setJson(KV.scope, s.scope);
  else kv.delete(KV.scope);
  if (s?.history && Object.keys(s.history).length > 0) kv.setJson(KV.history, s.history);
  else kv.delete(KV.history);
}

/** Makes `userId`'s pull state the live one (one vault transaction). No user: nothing changes. */
export function usePullStateOf(ctx: SyncContext, userId: string | null): void {
  if (!userId) return;
  const kv = ctx.vault.kv;
  const owner = kv.get(KV.pullOwner);
  if (owner === userId) return;
  ctx.vault.transaction(() => {
    const stash = kv.getJson<Stash>(KV.pullUsers) ?? {};
    if (owner) {
      stash[owner] = readLive(ctx);
      writeLive(ctx, stash[userId]);
    }
    delete stash[userId];
    kv.set(KV.pullOwner, userId);
    kv.setJson(KV.pullUsers, stash);
  });
}

/**
 * Patients whose cached chart was purged leave every waiting user's last scope too, so when such a
 * user syncs again those patients count as gained and their charts are pulled by patient (their
 * cursor alone would never bring the older records back). Call inside the reconcile's transaction.
 */
export function forgetPurgedInStash(ctx: SyncContext, purged: readonly string[]): void {
  if (purged.length === 0) return;
  const stash = ctx.vault.kv.getJson<Stash>(KV.pullUsers);
  if (!stash) return;
  const gone = new Set(purged);
  let changed = false;
  for (const s of Object.values(stash)) {
    if (!s.scope) continue;
    const kept = s.scope.patientIds.filter((p) => !gone.has(p));
    if (kept.length !== s.scope.patientIds.length) {
      s.scope = { ...s.scope, patientIds: kept };
      changed = true;
    }
  }
  if (changed) ctx.vault.kv.setJson(KV.pullUsers, stash);
}
