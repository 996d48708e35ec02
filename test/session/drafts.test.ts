import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});
