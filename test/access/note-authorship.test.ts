/**
 * A clinical note is signed by whoever wrote it: main stamps the author (the renderer cannot name
 * someone else), and only the author may amend or delete it — a colleague is refused, audited, and
 * the note is left as it was.
 */
import type { DocumentReference, Resource } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, note, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

const textOf = (r: Resource | undefined) => Buffer.from((r as DocumentReference).content?.[0]?.attachment?.data ?? '', 'base64').toString();

describe('note authorship', () => {
  it('stamps the signed-in user as the author, whatever the caller claims', async () => {
    h = await createHarness();
    await h.login('phil');
    const forged = { ...note('p-own', 'Reviewed, plan unchanged.'), author: [{ reference: 'Practitioner/u-phys2' }] } as Resource;
    const saved = await h.ok('records.save', { patientId: 'p-own', resource: forged as never });
    const stored = h.ws.vault.resources.get(saved.id)?.resource as DocumentReference;
    expect(stored.author).toEqual([{ reference: 'Practitioner/u-phys' }]);
  });

  it('lets the author amend their note, and refuses a colleague (audited; the note unchanged)', async () => {
    h = await createHarness();
    await h.login('phil');
    const mine = await h.ok('records.save', { patientId: 'p-own', resource: note('p-own', 'Original text.') as never });
    const amended = { ...note('p-own', 'Amended text.'), id: mine.id, docStatus: 'amended' } as Resource;
    const ok = await h.ok('records.save', { patientId: 'p-own', resource: amended as never, baseVersion: mine.version });
    expect(textOf(h.ws.vault.resources.get(ok.id)?.resource)).toBe('Amended text.');

    // A note a colleague wrote, on a chart Phil may otherwise change.
    h.ws.vault.resources.put({
      resource: { ...note('p-own', 'Colleague wrote this.'), id: 'note-colleague', author: [{ reference: 'Practitioner/u-phys2' }] } as Resource,
      patientId: 'p-own', version: 3, status: 'synced',
    });
    const mark = h.mark();
    const outbox = h.ws.vault.outbox.count();
    const takeover = { ...note('p-own', 'Rewritten by someone else.'), id: 'note-colleague' } as Resource;
    const refused = await h.call('records.save', { patientId: 'p-own', resource: takeover as never, baseVersion: 3 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const deleted = await h.call('records.delete', { patientId: 'p-own', recordId: 'note-colleague', baseVersion: 3 });
    expect(deleted).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(h.since(mark).map((e) => [e.type, e.outcome])).toEqual([['access-denied', 'denied'], ['access-denied', 'denied']]);
    expect(textOf(h.ws.vault.resources.get('note-colleague')?.resource)).toBe('Colleague wrote this.');
    expect(h.ws.vault.outbox.count()).toBe(outbox);
  });
});
