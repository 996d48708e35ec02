/**
 * Clinical flows end to end: the production renderer in Chromium, the real workstation core
 * (SQLCipher vault with its key in the real keychain, session, access, audit, sync) and the real
 * sync server on loopback, wired by test/e2e/workstation.ts. Screenshots of each main screen go
 * to test-results/screens/; axe-core checks the screens as they appear.
 */
import { test, expect } from '@playwright/test';
import { DOCTOR, DOCTOR2, NURSE, PRIVACY, RESTRICTED_PATIENT, type E2eWorkstation } from './workstation';
import { expectAccessible, openByMrn, useE2eStack } from './stack';
import { expectNoPhiInPage, expectWebStorageEmpty } from './phi-probe';
import type { Page } from '@playwright/test';
import type { Observation } from '@medplum/fhirtypes';
import type { RecordView } from '../../src-shared/api/types';
import type {} from '../../src-renderer/client/ehr-client';

/** demo-p-0002..: on Ward A (nurse + doctor); MRN DEMO-00000N. */
const WARD_A_MRN = 'DEMO-000003';
const WARD_A_ID = 'demo-p-0003';

const stack = useE2eStack();
const station = stack.station;


test('a nurse records vitals; a physician on a second workstation sees them after sync', async ({ browser }) => {
  const nurse = await station(browser, 'nurse-a');
  await expectAccessible(nurse.page, 'login');
  await nurse.screenshot('login');
  await nurse.loginAndSync(NURSE);
  // With the search box empty: "My patients" (her care team, patients.mine), keyboard-navigable.
  await expect(nurse.page.locator('#my-patients')).toContainText(WARD_A_MRN);
  await expect(nurse.page.getByRole('searchbox')).toHaveAttribute('aria-activedescendant', 'my-patients-row-0');
  await expectAccessible(nurse.page, 'my patients');
  await nurse.page.getByRole('searchbox').fill(WARD_A_MRN);
  await expect(nurse.page.locator('#search-results')).toContainText(WARD_A_MRN);
  await expectAccessible(nurse.page, 'search');
  await nurse.screenshot('search');
  await nurse.page.getByRole('searchbox').press('Enter');
  await expect(nurse.page.getByTestId('chart-banner')).toContainText(WARD_A_MRN);
  await expect(nurse.page.getByTestId('banner-allergies')).not.toContainText('none recorded');
  await expectAccessible(nurse.page, 'chart');
  await nurse.screenshot('chart');

  await nurse.page.getByRole('button', { name: 'Record vitals' }).click();
  // An implausible value is refused before anything is saved.
  await nurse.page.getByLabel(/Heart rate/).fill('720');
  await nurse.page.getByRole('button', { name: 'Save vitals' }).click();
  await expect(nurse.page.locator('#vital-hr-error')).toContainText('outside the plausible range');
  await nurse.page.getByLabel(/Heart rate/).fill('131');
  await nurse.page.getByLabel(/Temperature/).fill('38.9');
  await expectAccessible(nurse.page, 'vitals form');
  await nurse.screenshot('vitals');
  await nurse.page.getByRole('button', { name: 'Save vitals' }).click();
  await expect(nurse.page.getByTestId('vitals-saved')).toHaveText('2 measurements saved.');
  await nurse.page.getByRole('button', { name: 'Sync now' }).click();
  await expect(nurse.page.getByTestId('sync-pending')).toHaveText('0 pending');

  const doctor = await station(browser, 'doctor-b');
  await doctor.loginAndSync(DOCTOR);
  await openByMrn(doctor.page, WARD_A_MRN);
  await expect(doctor.page.getByTestId('vital-hr')).toContainText('131');
  await expect(doctor.page.getByTestId('vital-temp')).toContainText('38.9');
  await doctor.screenshot('chart-after-sync');

  // The printable summary (print.chart is audited by main), laid out by the print stylesheet.
  await doctor.page.getByRole('button', { name: 'Printable summary' }).click();
  await expect(doctor.page.getByTestId('print-summary')).toContainText('Heart rate: 131');
  await expect(doctor.page.getByRole('button', { name: 'Print / save as PDF' })).toBeEnabled();
  await doctor.page.emulateMedia({ media: 'print' });
  await expect(doctor.page.getByRole('button', { name: 'Print / save as PDF' })).toBeHidden();
  await doctor.screenshot('print');
  await doctor.page.emulateMedia({ media: 'screen' });
  await expectWebStorageEmpty(doctor.page);
});

test('15 minutes without activity hide all PHI; the note draft comes back after unlock', async ({ browser }) => {
  const doctor = await station(browser, 'doctor-idle');
  await doctor.loginAndSync(DOCTOR);
  await openByMrn(doctor.page, WARD_A_MRN);
  const bannerName = (await doctor.page.locator('.chart-banner .name').innerText()).trim();
  expect(bannerName.length).toBeGreaterThan(3);
  await doctor.page.getByRole('button', { name: 'Write progress note' }).click();
  const draft = 'Chest clear. Plan: repeat vitals in 4 h. Zebediah Canarywhistle canary draft.';
  await doctor.page.getByLabel(/Progress note/).fill(draft);
  await expect(doctor.page.getByTestId('draft-state')).toHaveText('Draft saved');
  await expectAccessible(doctor.page, 'note editor');
  await doctor.screenshot('note');

  // The warning shows before the lock fires...
  doctor.clock.advance(14 * 60_000 + 5_000);
  await doctor.eventsDelivered();
  await expect(doctor.page.getByTestId('lock-warning')).toBeVisible();
  await doctor.screenshot('lock-warning');
  // ...and at 15 minutes the core locks: the renderer drops every PHI from the DOM.
  doctor.clock.advance(60_000);
  await doctor.eventsDelivered();
  await expect(doctor.page.getByTestId('lock-screen')).toBeVisible();
  await expectNoPhiInPage(doctor.page, [bannerName, WARD_A_MRN, 'Canarywhistle', 'repeat vitals']);
  await expectWebStorageEmpty(doctor.page);
  await expect(doctor.page.getByLabel('Password')).toBeFocused();
  // Main is the guarantee: a data call from the page is refused while locked.
  const refused = await doctor.page.evaluate((id) => window.ehr?.invoke('patients.open', { patientId: id }), WARD_A_ID);
  expect(refused).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  await expectAccessible(doctor.page, 'lock screen');
  await doctor.screenshot('locked');

  await doctor.page.getByLabel('Password').fill(DOCTOR.password);
  await doctor.page.getByRole('button', { name: 'Unlock' }).click();
  await expect(doctor.page.getByLabel(/Progress note/)).toHaveValue(draft);
  await expect(doctor.page.getByTestId('chart-banner')).toContainText(WARD_A_MRN);

  await doctor.page.getByRole('button', { name: 'Sign note' }).click();
  await expect(doctor.page.getByTestId('note').first()).toContainText('repeat vitals in 4 h');
});

/** Fill and submit the break-glass dialog (reason, justification, password). */
async function breakGlass(page: Page, password: string, patientId?: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  if (patientId) await page.getByLabel('Patient id').fill(patientId);
  await page.getByLabel('Reason').selectOption('ETREAT');
  await page.getByLabel('Justification').fill('Unconscious on arrival, no care-team physician reachable.');
  await page.getByLabel('Your password').fill(password);
  await expectAccessible(page, 'break-glass dialog');
  await dialog.getByRole('button', { name: 'Open with emergency access' }).click();
}

test('break-glass on a restricted patient: granted with a banner and countdown, then it expires', async ({ browser }) => {
  const nurse = await station(browser, 'nurse-bg');
  await nurse.loginAndSync(NURSE);
  // The restricted patient is on no care team, so not on this workstation: search finds nothing.
  await nurse.page.getByRole('searchbox').fill('DEMO-000001');
  await expect(nurse.page.getByText('No patient matches.')).toBeVisible();
  await nurse.page.getByRole('button', { name: 'Request emergency access (break-glass)' }).click();
  await nurse.screenshot('break-glass-dialog');
  await breakGlass(nurse.page, NURSE.password, RESTRICTED_PATIENT);
  await expect(nurse.page.getByTestId('breakglass-banner')).toContainText(/ends in (59|60):\d\d/);
  await expect(nurse.page.getByRole('dialog')).toHaveCount(0);
  await nurse.screenshot('break-glass-granted');
  const active = await nurse.core.invoke('breakGlass.active', {});
  expect(active).toMatchObject({ ok: true, value: [{ patientId: RESTRICTED_PATIENT, reason: 'ETREAT' }] });
  // The grant brings the whole chart to this workstation (a pull by patient), and the chart opens.
  await expect(nurse.page.getByTestId('chart-banner')).toContainText('DEMO-000001', { timeout: 20_000 });
  await expect(nurse.page.getByTestId('chart-banner')).toContainText('Emergency access');
  await expect(nurse.page.getByRole('heading', { name: 'Problems' })).toBeVisible();
  const restrictedName = (await nurse.page.locator('.chart-banner .name').innerText()).trim();
  await nurse.screenshot('break-glass-restricted-chart');

  await nurse.passActiveTime(61 * 60_000);
  await expect(nurse.page.getByTestId('breakglass-banner')).toHaveCount(0);
  expect(await nurse.core.invoke('breakGlass.active', {})).toMatchObject({ ok: true, value: [] });
  // Expiry takes the chart off the screen at once.
  await expect(nurse.page.getByTestId('chart-banner')).toHaveCount(0);
  await expectNoPhiInPage(nurse.page, [restrictedName, 'DEMO-000001']);
});

test('break-glass on a chart outside the care team opens it, expiry closes it, the privacy officer reviews it', async ({ browser }) => {
  // Ward A's charts reach this workstation with the nurse; Dr Second (Ward B) then needs break-glass.
  const ws = await station(browser, 'ward-bg');
  await ws.loginAndSync(NURSE);
  await ws.page.getByRole('button', { name: 'Sign out' }).click();
  await ws.login(DOCTOR2);
  await ws.page.getByRole('searchbox').fill(WARD_A_MRN);
  await expect(ws.page.locator('#search-results')).toContainText('Not in care team');
  await ws.page.getByRole('searchbox').press('Enter');
  await breakGlass(ws.page, DOCTOR2.password);
  await expect(ws.page.getByTestId('chart-banner')).toContainText(WARD_A_MRN);
  await expect(ws.page.getByTestId('chart-banner')).toContainText('Emergency access');
  await expect(ws.page.getByTestId('breakglass-banner')).toContainText(/ends in \d+:\d\d/);
  await ws.screenshot('break-glass-chart');
  const name = (await ws.page.locator('.chart-banner .name').innerText()).trim();

  // The user stays active (heartbeats) while the grant runs out.
  await ws.passActiveTime(61 * 60_000);
  await expect(ws.page.getByTestId('notice')).toContainText('break-glass');
  await expect(ws.page.getByTestId('chart-banner')).toHaveCount(0);
  await expectNoPhiInPage(ws.page, [name, WARD_A_MRN]);
  const reopen = await ws.core.invoke('patients.open', { patientId: WARD_A_ID });
  expect(reopen).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

  // The privacy officer reviews it on this workstation's (hash-chained) audit log.
  await ws.page.getByRole('button', { name: 'Sign out' }).click();
  await ws.login(PRIVACY);
  await ws.page.getByRole('button', { name: 'Audit' }).click();
  await expect(ws.page.getByRole('table', { name: 'Audit entries' })).toContainText('login');
  await ws.page.getByLabel('Break-glass review only').check();
  const review = ws.page.getByRole('table', { name: 'Break-glass entries' });
  await expect(review.locator('tbody tr', { hasText: 'break-glass-start' })).toContainText(WARD_A_ID);
  await expect(review.locator('tbody tr', { hasText: 'break-glass-start' })).toContainText('high');
  await expect(review.locator('tbody tr', { hasText: 'break-glass-end' }).first()).toBeVisible();
  await ws.page.getByRole('button', { name: 'Verify chain' }).click();
  await expect(ws.page.getByTestId('audit-verify')).toContainText('Chain intact');
  await expectAccessible(ws.page, 'audit');
  await ws.screenshot('audit-break-glass-review');
  await expectNoPhiInPage(ws.page, [name]);
});

test('offline sign-in and documentation, then reconnect', async ({ browser }) => {
  const nurse = await station(browser, 'nurse-offline');
  await nurse.loginAndSync(NURSE);
  await nurse.page.getByRole('button', { name: 'Sign out' }).click();
  await stack.server.stop();
  try {
    // The verifier cached at the online sign-in lets the nurse in without the server.
    await nurse.login(NURSE);
    await expect(nurse.page.getByTestId('statusbar')).toContainText('Signed in offline');
    await openByMrn(nurse.page, 'DEMO-000004');
    await nurse.page.getByRole('button', { name: 'Record vitals' }).click();
    await nurse.page.getByLabel(/SpO/).fill('91');
    await nurse.page.getByRole('button', { name: 'Save vitals' }).click();
    await expect(nurse.page.getByTestId('vitals-saved')).toHaveText('1 measurement saved.');
    await nurse.page.getByRole('button', { name: 'Sync now' }).click();
    await expect(nurse.page.getByTestId('sync-state')).toContainText('Offline');
    await expect(nurse.page.getByTestId('sync-pending')).toHaveText('1 pending');
    await nurse.screenshot('offline');
  } finally {
    await stack.server.restart();
  }
  // Back online: an offline sign-in has no server session, so the nurse signs in again to sync.
  await nurse.page.getByRole('button', { name: 'Sign in to sync' }).click();
  await nurse.page.getByLabel('Password').fill(NURSE.password);
  await nurse.page.getByRole('button', { name: 'Reconnect' }).click();
  await expect(nurse.page.getByTestId('statusbar')).not.toContainText('Signed in offline');
  await expect(nurse.page.getByTestId('sync-state')).toContainText('Online');
  await expect(nurse.page.getByTestId('sync-pending')).toHaveText('0 pending');
});

/** Update a record through the core as a clinician editing it would (the UI records, it does not edit). */
async function editVital(ws: E2eWorkstation, patientId: string, value: number): Promise<void> {
  const list = await ws.core.invoke('records.list', { patientId, resourceType: 'Observation' });
  if (!list.ok) throw new Error(`records.list: ${list.error.code}`);
  const hr = (list.value as RecordView[]).find((r) => r.id.endsWith('-obs-hr'));
  if (!hr) throw new Error('no heart-rate observation in the demo chart');
  const resource = { ...(hr.resource as Observation), valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } };
  const saved = await ws.core.invoke('records.save', { patientId, resource, baseVersion: hr.version });
  if (!saved.ok) throw new Error(`records.save: ${saved.error.code}`);
}

test('a conflict from two offline edits is resolved side by side', async ({ browser }) => {
  const patientId = 'demo-p-0005';
  const a = await station(browser, 'conflict-a');
  const b = await station(browser, 'conflict-b');
  await a.loginAndSync(DOCTOR);
  await b.loginAndSync(NURSE);
  await stack.server.stop();
  try {
    await editVital(a, patientId, 77);
    await editVital(b, patientId, 99);
  } finally {
    await stack.server.restart();
  }
  // Both push; whichever reaches the server second (the engines also retry on their own) gets the conflict.
  const conflicts = async (ws: E2eWorkstation) => ((await ws.core.invoke('sync.status', {})) as { value?: { conflicts: number } }).value?.conflicts ?? 0;
  await a.page.getByRole('button', { name: 'Sync now' }).click();
  await b.page.getByRole('button', { name: 'Sync now' }).click();
  await expect.poll(async () => (await conflicts(a)) + (await conflicts(b)), { timeout: 30_000 }).toBe(1);
  const [loser, mine, theirs] = (await conflicts(a)) === 1 ? [a, 77, 99] : [b, 99, 77];
  await loser.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Conflicts' }).click();
  const conflict = loser.page.getByTestId('conflict');
  await expect(conflict).toHaveCount(1);
  await expect(conflict.locator('.side-by-side > div').first()).toContainText(`Heart rate: ${mine}`);
  await expect(conflict.locator('.side-by-side > div').last()).toContainText(`Heart rate: ${theirs}`);
  await expectAccessible(loser.page, 'conflicts');
  await loser.screenshot('conflict');
  await conflict.getByRole('button', { name: 'Keep this workstation’s version' }).click();
  await expect(loser.page.getByText('No conflicts.')).toBeVisible();
  await loser.page.getByRole('button', { name: 'Sync now' }).click();
  await expect(loser.page.getByTestId('sync-pending')).toHaveText('0 pending');
  expect(await loser.core.invoke('sync.conflicts', {})).toMatchObject({ ok: true, value: [] });
});

test('a failed login, then a lockout', async ({ browser }) => {
  const ws = await station(browser, 'lockout');
  // Each attempt is answered before the next is typed (the button reads "Signing in…" meanwhile),
  // so every one of them reaches the server's failure count, however slow the machine.
  const attempt = async (password: string) => {
    await ws.page.getByLabel('Username').fill(DOCTOR2.username);
    await ws.page.getByLabel('Password').fill(password);
    await ws.page.getByRole('button', { name: 'Sign in' }).click();
    await expect(ws.page.getByRole('button', { name: 'Sign in' })).toBeEnabled({ timeout: 15_000 });
  };
  await attempt('not-the-password');
  await expect(ws.page.getByRole('alert')).toBeVisible();
  const firstMessage = await ws.page.getByRole('alert').innerText();
  expect(firstMessage).not.toContain(DOCTOR2.username);
  for (let i = 0; i < 5; i++) await attempt(`wrong-${i}`);
  // Locked now: the right password is refused with the very same words as a wrong one (the server
  // gives no oracle for locks), and those words tell the nurse that too many attempts may be why.
  await attempt(DOCTOR2.password);
  await expect(ws.page.getByRole('alert')).toHaveText(firstMessage);
  expect(firstMessage).toMatch(/too many attempts/i);
  await expect(ws.page.getByTestId('statusbar')).toHaveCount(0);
  await ws.screenshot('lockout');
});
