/**
 * Conflicts: both versions kept, listed with author, device and time, resolved by a clinician.
 *
 * The local version stays in the resource row (status 'conflict'); the server's sits beside it
 * (vault resources.conflict_json, with its metadata and ours). Resolution is never automatic:
 *  - 'local'  (keep mine):   a new version with our content, based on theirs, queued to sync;
 *  - 'server' (keep theirs): their version becomes the local one (nothing to send);
 *  - { merged }:             a new version with the clinician's merged content, based on theirs, queued.
 * Each resolution is one vault transaction with its audit entry.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { ConflictSummary } from '../../../src-shared/api/types';
import type { RecordMeta } from '../../../src-shared/sync/sync';
import type { Vault } from '../vault';
import type { ConflictTheirs } from './records';

export type ConflictChoice = 'local' | 'server' | { merged: Resource };

export interface ConflictSideView {
  resource: Resource;
  version: number;
  authorUserId: string | null;
  deviceId: string | null;
  /** ISO time the version was written. */
  at: string | null;
}

export interface ConflictView extends ConflictSummary {
  mine: ConflictSideView;
  theirs: ConflictSideView;
}

export interface ResolveResult {
  recordId: string;
  /** The version the record now has locally (theirs for 'server'; theirs + 1 once the new one syncs). */
  version: number;
  /** The outbox mutation carrying the resolution, or null for 'server'. */
  mutationId: string | null;
}

function theirsOf(vault: Vault, recordId: string): ConflictTheirs | null {
  return vault.resources.getConflict(recordId) as ConflictTheirs | null;
}

export function listConflicts(vault: Vault, limit = 500): ConflictView[] {
  return vault.resources.listByStatus('conflict', limit).flatMap((r) => {
    const t = theirsOf(vault, r.id);
    if (!t) return [];
    const meta: Partial<RecordMeta> = t.meta ?? {};
    return [{
      conflictId: r.id,
      patientId: r.patientId ?? '',
      recordId: r.id,
      resourceType: r.resourceType,
      localVersion: r.version,
      serverVersion: t.version,
      mine: {
        resource: r.resource, version: r.version,
        authorUserId: t.mine?.authorUserId ?? null, deviceId: t.mine?.deviceId ?? null, at: t.mine?.at ?? r.updatedAt,
      },
      theirs: {
        resource: t.resource, version: t.version,
        authorUserId: meta.authorUserId ?? null, deviceId: meta.deviceId ?? null, at: meta.at ?? null,
      },
    }];
  });
}

export interface ResolveContext {
  vault: Vault;
  userId: string | null;
  role?: string | null;
}

export function resolveConflict(ctx: ResolveContext, conflictId: string, choice: ConflictChoice): ResolveResult {
  const { vault } = ctx;
  return vault.transaction(() => {
    const local = vault.resources.get(conflictId);
    const theirs = local?.status === 'conflict' ? theirsOf(vault, conflictId) : null;
    if (!local || !theirs) throw new EhrError(ErrorCode.NOT_FOUND, 'There is no open conflict for this record.', { recordId: conflictId });
    let mutationId: string | null = null;
    if (choice === 'server') {
      vault.resources.put({ resource: theirs.resource, patientId: local.patientId, version: theirs.version, status: 'synced' });
    } else {
      const content = choice === 'local' ? local.resource : choice.merged;
      if (content.resourceType !== local.resourceType || content.id !== local.id) {
        throw new EhrError(ErrorCode.INVALID, 'The merged version must be the same record (same resource type and id).', { recordId: conflictId });
      }
      vault.resources.put({ resource: content, patientId: local.patientId, version: theirs.version, status: 'pending' });
      mutationId = randomUUID();
      vault.outbox.enqueue({
        mutationId, recordId: local.id, patientId: local.patientId, resourceType: local.resourceType,
        baseVersion: theirs.version, op: 'update', payload: content,
      });
    }
    vault.resources.clearConflict(conflictId);
    vault.audit.append({
      action: 'U', type: 'conflict-resolved', outcome: 'success', severity: 'low',
      userId: ctx.userId, role: ctx.role ?? null, patientId: local.patientId,
      resourceRefs: [`${local.resourceType}/${local.id}`],
      correlationId: randomUUID(),
      reasonCode: choice === 'local' ? 'keep-local' : choice === 'server' ? 'keep-server' : 'merged',
    });
    return { recordId: local.id, version: theirs.version, mutationId };
  });
}
