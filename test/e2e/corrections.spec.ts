/**
 * Correcting the record end to end (production renderer, real core, real sync server): a nurse marks
 * a vital-sign reading entered in error (it stays, struck through, and leaves the trend); a
 * physician amends their own note — the amendment survives a lock as a draft, a change made
 * elsewhere meanwhile is caught as a conflict without losing the typed text —; the privacy
 * officer's audit screen lists the update entries, which carry before/after hashes.
 */
import { test, expect, type Page } from '@playwright/test';
import type { DocumentReference } from '@medplum/fhirtypes';
import { DOCTOR, NURSE, PRIVACY } from './workstation';
import { expectAccessible, openByMrn, useE2eStack } from './stack';
import { expectNoPhiInPage } from './phi-probe';
import type { RecordView } from '../../src-shared/api/types';

/** A Ward A patient (nurse + doctor) the other specs leave alone. */
const MRN = 'DEMO-000007';
const PATIENT_ID = 'demo-p-0007';

const stack = useE2eStack();


async function recordVitals(page: Page, hr: string): Promise<void> {
  await page.getByRole('button', { name: 'Record vitals' }).click();
  await page.getByLabel(/Heart rate/).fill(hr);
  await page.getByRole('button', { name: 'Save vitals' }).click();
  await expect(page.getByTestId('vitals-saved')).toHaveText('1 measurement saved.');
  await page.getByRole('button', { name: 'Back to chart' }).click();
  await expect(page.getByTestId('chart-banner')).toContainText(MRN);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (data: string | undefined) => Buffer.from(data ?? '', 'base64').toString('utf8');

test('a nurse marks a reading entered in error; a physician amends a note; the audit lists the updates', async ({ browser }) => {
  const ws = await stack.station(browser, 'corrections');
  const page = ws.page;

  // --- nurse: two heart rates, the second one wrong -------------------------------------------
  await ws.loginAndSync(NURSE);
  await openByMrn(page, MRN);
  await recordVitals(page, '64');
  await recordVitals(page, '188');
  await expect(page.getByTestId('vital-hr')).toContainText('188');
  const wrong = page.getByTestId('reading').filter({ hasText: '188' });
  await expect(wrong).toHaveCount(1);
  await wrong.getByRole('button', { name: /Mark entered in error: Heart rate 188/ }).click();

  const dialog = page.getByRole('dialog', { name: 'Mark entered in error?' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Reason')).toBeFocused();
  await expectAccessible(page, 'entered-in-error dialog');
  await ws.screenshot('entered-in-error-dialog');
  // A reason is required; Escape cancels and nothing changes.
  await dialog.getByRole('button', { name: 'Mark entered in error' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Choose a reason.');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(wrong).not.toHaveAttribute('data-entered-in-error', /.*/);

  await wrong.getByRole('button', { name: /Mark entered in error/ }).click();
  await dialog.getByLabel('Reason').selectOption('wrong-value');
  await dialog.getByRole('button', { name: 'Mark entered in error' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('correction-status')).toContainText('Marked entered in error');
  // Still in the record, struck through and labelled; gone from "latest" and the trend.
  await expect(wrong).toHaveAttribute('data-entered-in-error', 'true');
  await expect(wrong).toContainText('Entered in error');
  await expect(wrong).toContainText('Wrong value or unit');
  await expect(wrong.locator('s').first()).toBeVisible();
  await expect(wrong.getByRole('button')).toHaveCount(0);
  await expect(page.getByTestId('vital-hr')).toContainText('64');
  await expect(page.getByTestId('vital-hr')).not.toContainText('188');
  await expect(page.getByTestId('vital-hr').getByRole('img')).not.toHaveAttribute('aria-label', /188/);
  await expectAccessible(page, 'chart with an entered-in-error reading');
  await ws.screenshot('entered-in-error');
  const obs = await ws.core.invoke('records.list', { patientId: PATIENT_ID, resourceType: 'Observation' });
  expect(obs.ok).toBe(true);
  const marked = (obs.ok ? (obs.value as RecordView[]) : []).filter((r) => (r.resource as { status?: string }).status === 'entered-in-error');
  expect(marked).toHaveLength(1);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-pending')).toHaveText('0 pending');

  // --- physician: writes a note, amends it -------------------------------------------------------
  await page.getByRole('button', { name: 'Sign out' }).click();
  await ws.login(DOCTOR);
  await openByMrn(page, MRN);
  // The nurse's marking is what the physician sees too.
  await expect(page.getByTestId('reading').filter({ hasText: '188' })).toContainText('Entered in error');
  const original = 'Reviewed at bedside. Plan: fluids.';
  await page.getByRole('button', { name: 'Write progress note' }).click();
  await page.getByLabel(/Progress note/).fill(original);
  await page.getByRole('button', { name: 'Sign note' }).click();
  const note = page.getByTestId('note').filter({ hasText: original });
  await expect(note).toHaveCount(1);
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-pending')).toHaveText('0 pending');
  // Notes the physician did not write (the seed's) offer no "Amend".
  await expect(page.getByTestId('note').filter({ hasText: 'Routine review' }).getByRole('button', { name: 'Amend note' })).toHaveCount(0);
  await note.getByRole('button', { name: 'Amend note' }).click();

  const editor = page.getByLabel(/Amended note/);
  await expect(page.getByRole('heading', { name: 'Amend progress note' })).toBeVisible();
  await expect(editor).toHaveValue(original);
  const amended = 'Reviewed at bedside. Plan: oral fluids 2 L/day; recheck heart rate in 4 h.';
  await editor.fill(amended);
  await expect(page.getByTestId('draft-state')).toHaveText('Draft saved');
  await expectAccessible(page, 'amend editor');
  await ws.screenshot('amend-note');

  // The amendment in progress survives a lock, like a new note's draft.
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expectNoPhiInPage(page, ['oral fluids', 'Plan: fluids']);
  await page.getByLabel('Password').fill(DOCTOR.password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(editor).toHaveValue(amended);

  // Meanwhile the note changes and syncs (as an edit on another workstation would): its version moves on.
  const docs = await ws.core.invoke('records.list', { patientId: PATIENT_ID, resourceType: 'DocumentReference' });
  const rec = (docs.ok ? (docs.value as RecordView[]) : []).find((r) => unb64((r.resource as DocumentReference).content?.[0]?.attachment?.data) === original);
  expect(rec).toBeDefined();
  const elsewhere = `${original} Seen with family.`;
  const doc = rec!.resource as DocumentReference;
  const other = await ws.core.invoke('records.save', {
    patientId: PATIENT_ID, baseVersion: rec!.version,
    resource: { ...doc, content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: b64(elsewhere) } }] },
  });
  expect(other.ok).toBe(true);
  expect(await ws.core.invoke('sync.now', {})).toMatchObject({ ok: true, value: { pendingMutations: 0 } });
  const moved = await ws.core.invoke('records.get', { patientId: PATIENT_ID, recordId: rec!.id });
  expect(moved.ok && (moved.value as RecordView).version).toBeGreaterThan(rec!.version);

  // Saving on the stale version is refused as a conflict: clear message, nothing typed is lost.
  await page.getByRole('button', { name: 'Save amendment' }).click();
  await expect(page.getByTestId('amend-error')).toContainText('changed elsewhere');
  await expect(page.getByTestId('amend-error')).not.toContainText('fluids');
  await expect(editor).toHaveValue(amended);
  await page.getByRole('button', { name: 'Compare with the current version' }).click();
  await expect(page.getByTestId('amend-current')).toHaveText(elsewhere);
  await expect(editor).toHaveValue(amended);
  await expectAccessible(page, 'amend editor after a conflict');
  await ws.screenshot('amend-conflict');
  await page.getByRole('button', { name: 'Save amendment' }).click();

  // The chart shows the amended text, marked as amended.
  await expect(page.getByTestId('notice')).toContainText('Note amended');
  const amendedNote = page.getByTestId('note').filter({ hasText: amended });
  await expect(amendedNote).toHaveCount(1);
  await expect(amendedNote.getByTestId('note-amended')).toHaveText('amended');
  await expect(page.getByTestId('note').filter({ hasText: 'Plan: fluids.' })).toHaveCount(0);
  await expectAccessible(page, 'chart with an amended note');
  await ws.screenshot('amended-note');
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('sync-pending')).toHaveText('0 pending');
  // A synced amendment is a new server version of the same record.
  const after = await ws.core.invoke('records.get', { patientId: PATIENT_ID, recordId: rec!.id });
  expect(after).toMatchObject({ ok: true, value: { id: rec!.id, status: 'synced' } });
  expect(after.ok && (after.value as RecordView).version).toBeGreaterThan(moved.ok ? (moved.value as RecordView).version : Infinity);

  // --- privacy officer: the update entries -----------------------------------------------------
  await page.getByRole('button', { name: 'Sign out' }).click();
  await ws.login(PRIVACY);
  await page.getByRole('button', { name: 'Audit' }).click();
  const table = page.getByRole('table', { name: 'Audit entries' });
  const updates = table.locator('tbody tr').filter({ has: page.getByRole('cell', { name: 'update', exact: true }) });
  // The entered-in-error marking, the change made elsewhere, and the amendment.
  await expect(updates).toHaveCount(3);
  await expect(updates.filter({ hasText: `DocumentReference/${rec!.id}` })).toHaveCount(2);
  await expect(updates.filter({ hasText: `Observation/${marked[0]!.id}` })).toHaveCount(1);
  await expectAccessible(page, 'audit with updates');
  await ws.screenshot('audit-updates');
  // Each update entry carries the before/after hashes of the record, never its content.
  const entries = ws.core.vault.audit.list({ limit: 1_000_000 }).filter((e) => e.type === 'update');
  expect(entries).toHaveLength(3);
  for (const e of entries) {
    expect(e.beforeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.afterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.beforeHash).not.toBe(e.afterHash);
    expect(JSON.stringify(e)).not.toContain('fluids');
  }
});
