/**
 * drafts.*: a user's unsaved work, autosaved by the renderer every few seconds into the vault
 * (encrypted at rest). Drafts belong to one user: ids are derived from the user and the renderer's
 * key, and every read is scoped by user, so another user's session never sees them.
 */
import { createHash } from 'node:crypto';
import { hasCapability } from '../../../../src-shared/access';
import type { Draft as ApiDraft, DraftSummary } from '../../../../src-shared/api';
import type { Draft } from '../../vault';
import type { HandlerTable } from '../handler';
import { notFound } from '../errors';
import { ensurePatientAccess } from '../guard';

interface StoredContent {
  key: string;
  content: string;
}

/** Same user + same key = same draft (autosave overwrites), and no two users ever share an id. */
const draftIdOf = (userId: string, key: string): string =>
  createHash('sha256').update(`${userId}\u0000${key}`).digest('base64url').slice(0, 32);

/**
 * The draft as an audit reference. Draft ids are base64url; the audit wire format allows ids of
 * `[A-Za-z0-9._:-]` only, so '_' is written as '.', which base64url never uses (still one-to-one).
 */
export const draftRef = (draftId: string): string => `Draft/${draftId.replaceAll('_', '.')}`;

function summary(d: Draft): DraftSummary {
  const c = d.content as StoredContent;
  return { draftId: d.id, key: c.key, patientId: d.patientId, updatedAt: Date.parse(d.updatedAt) };
}

export const draftHandlers: Pick<HandlerTable, 'drafts.save' | 'drafts.list' | 'drafts.get' | 'drafts.delete'> = {
  'drafts.save': {
    allow: (roles) => hasCapability(roles, 'drafts:write'),
    patient: 'optional',
    run(ctx, { input, session }) {
      const saved = ctx.vault.drafts.save({
        id: draftIdOf(session.user.userId, input.key),
        userId: session.user.userId,
        patientId: input.patientId ?? null,
        content: { key: input.key, content: input.content } satisfies StoredContent,
      });
      if (!saved) throw notFound('draft');
      return summary(saved);
    },
  },
  'drafts.list': {
    allow: (roles) => hasCapability(roles, 'drafts:write'),
    patient: false,
    run(ctx, { session }) {
      return ctx.vault.drafts.listForUser(session.user.userId).map(summary);
    },
  },
  'drafts.get': {
    allow: (roles) => hasCapability(roles, 'drafts:write'),
    patient: false,
    run(ctx, { input, session, actor }): ApiDraft {
      const d = ctx.vault.drafts.get(input.draftId, session.user.userId);
      if (!d) throw notFound('draft');
      // A draft about a patient is that patient's data: the user must still have access to them.
      if (d.patientId) ensurePatientAccess(ctx, session, actor, d.patientId);
      // Its content is the user's unsaved clinical text: a read of PHI like any other, audited.
      ctx.audit.record(actor, { type: 'read', patientId: d.patientId, resourceRefs: [draftRef(d.id)] });
      return { ...summary(d), content: (d.content as StoredContent).content };
    },
  },
  'drafts.delete': {
    allow: (roles) => hasCapability(roles, 'drafts:write'),
    patient: false,
    run(ctx, { input, session }) {
      return { deleted: ctx.vault.drafts.delete(input.draftId, session.user.userId) };
    },
  },
};
