import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditEntrySchema } from '../../src-shared/sync/audit';
import { CANARY, PASSWORD, createHarness, type Harness } from '../access/harness';

let h: Harness;
afterEach(async () => h?.close());

describe('drafts', () => {
  it('survive a lock and come back after the same user unlocks', async () => {
    h = await createHarness();
    await h.login('nina');
    const content = JSON.stringify({ hr: 88, comment: CANARY.note });
    const saved = await h.ok('drafts.save', { key: 'vitals:p-canary', patientId: 'p-canary', content });
    // Autosave again: same key, same draft.
    const again = await h.ok('drafts.save', { key: 'vitals:p-canary', patientId: 'p-canary', content });
    expect(again.draftId).toBe(saved.draftId);
    h.ws.lockNow('idle');
    expect((await h.call('drafts.get', { draftId: saved.draftId })).ok).toBe(false);
    await h.ok('auth.unlock', { password: PASSWORD });
    const restored = await h.ok('drafts.get', { draftId: saved.draftId });
    expect(restored.content).toBe(content);
    expect((await h.ok('drafts.list', {})).map((d) => d.key)).toEqual(['vitals:p-canary']);
  });

  it("another user unlocking gets their own session; the first user's drafts stay theirs", async () => {
    h = await createHarness();
    await h.login('nina');
    const mine = await h.ok('drafts.save', { key: 'note', patientId: 'p-own', content: 'nina draft' });
    h.ws.lockNow('screen-lock');
    await h.ok('auth.switchUser', {});
    await h.login('phil');
    expect(await h.ok('drafts.list', {})).toEqual([]);
    const r = await h.call('drafts.get', { draftId: mine.draftId });
    expect(r.ok ? null : r.error.code).toBe('NOT_FOUND');
    expect((await h.call('drafts.delete', { draftId: mine.draftId })).ok && (await h.ok('drafts.delete', { draftId: mine.draftId })).deleted).toBe(false);
    const theirs = await h.ok('drafts.save', { key: 'note', patientId: 'p-own', content: 'phil draft' });
    expect(theirs.draftId).not.toBe(mine.draftId);
    await h.ok('auth.switchUser', {});
    await h.login('nina');
    expect((await h.ok('drafts.get', { draftId: mine.draftId })).content).toBe('nina draft');
  });

  it('are encrypted at rest: no canary text in any vault file', async () => {
    h = await createHarness({ seed: false });
    await h.login('nina');
    await h.ok('drafts.save', { key: 'k', content: `${CANARY.family} ${CANARY.mrn}` });
    await h.ws.close();
    for (const f of readdirSync(h.dir)) {
      const bytes = readFileSync(join(h.dir, f));
      expect(bytes.includes(Buffer.from(CANARY.family)), f).toBe(false);
      expect(bytes.includes(Buffer.from(CANARY.mrn)), f).toBe(false);
    }
    h.close = async () => rmSync(h.dir, { recursive: true, force: true });
  });

  it('reading one back is audited as a read of its patient, in a form the server ingests (ids with "_" too)', async () => {
    h = await createHarness();
    await h.login('nina');
    // Draft ids are base64url: find keys whose ids carry '_' and '-' so the reference must be mapped.
    const saved = [];
    for (let i = 0; saved.length < 3 && i < 500; i++) {
      const d = await h.ok('drafts.save', { key: `vitals:${i}`, patientId: 'p-own', content: `{"hr":${i}}` });
      if (d.draftId.includes('_')) saved.push(d);
    }
    expect(saved.length).toBe(3);
    for (const d of saved) {
      const mark = h.mark();
      await h.ok('drafts.get', { draftId: d.draftId });
      const entries = h.since(mark);
      expect(entries.map((e) => [e.type, e.action, e.patientId, e.userId])).toEqual([['read', 'R', 'p-own', 'u-nurse']]);
      expect(AuditEntrySchema.safeParse(entries[0]).success).toBe(true);
    }
  });
});
