/**
 * The renderer's own guarantees, against the synthetic core (test/e2e/synthetic-core.ts): lock
 * unmounts PHI from the DOM within the lock event, nothing reaches web storage, the URL or the
 * title, focus moves to the unlock field, the chart and the note draft come back after unlock,
 * and the main screens pass axe-core. Flows through the real core and server: workflows.spec.ts.
 */
import { test, expect, type Browser } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import type { AllergyIntolerance, DocumentReference, Patient } from '@medplum/fhirtypes';
import { openBridgedPage, type BridgedPage } from '../../src-main/chromium-host/bridge-page';
import { DEV_HOST_ENTRY_URL } from '../../src-main/chromium-host/renderer-origin';
import { SyntheticCore, syntheticPatient, vitalRecords } from './synthetic-core';
import { CANARY, expectNoPhiInPage, expectWebStorageEmpty } from './phi-probe';
import type { RecordView } from '../../src-shared/api/types';

const canaryId = 'p-canary';
const canarySummary = { id: canaryId, mrn: CANARY.mrn, family: CANARY.family, given: [CANARY.given], birthDate: CANARY.birthDate, gender: 'male', access: 'care-team' as const };
const canaryPatient: Patient = {
  resourceType: 'Patient', id: canaryId, birthDate: CANARY.birthDate, gender: 'male',
  name: [{ family: CANARY.family, given: [CANARY.given] }],
  identifier: [{ type: { coding: [{ code: 'MR' }] }, value: CANARY.mrn }],
};
const rec = (id: string, resource: RecordView['resource']): RecordView => ({ id, patientId: canaryId, resourceType: resource.resourceType as RecordView['resourceType'], version: 1, status: 'synced', updatedAt: 0, resource });
const allergy: AllergyIntolerance = { resourceType: 'AllergyIntolerance', patient: { reference: `Patient/${canaryId}` }, code: { text: CANARY.allergy }, criticality: 'high' };
const note: DocumentReference = {
  resourceType: 'DocumentReference', status: 'current', docStatus: 'final', date: '2026-11-20T10:00:00Z', type: { text: 'Progress note' },
  content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(CANARY.note).toString('base64') } }],
};

function makeCore(): SyntheticCore {
  const records = new Map([[canaryId, [...vitalRecords(canaryId, 30), rec('a1', allergy), rec('n1', note)]]]);
  return new SyntheticCore({
    patients: [canarySummary, ...Array.from({ length: 500 }, (_, i) => syntheticPatient(i))],
    users: [{ userId: 'u-doc', username: 'drgrey', displayName: 'Dr Grey', roles: ['physician'], password: 'correct horse' }],
    records,
    demographics: new Map([[canaryId, canaryPatient]]),
  });
}

async function signInAndOpenCanary(browser: Browser, core: SyntheticCore): Promise<BridgedPage> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const bp = await openBridgedPage(ctx, core);
  const { page } = bp;
  await page.getByLabel('Username').fill('drgrey');
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('searchbox').fill('Canary');
  await expect(page.getByRole('grid', { name: 'Search results' })).toContainText(CANARY.family.toUpperCase());
  await page.getByRole('searchbox').press('Enter');
  await expect(page.getByTestId('chart-banner')).toContainText(CANARY.mrn);
  return bp;
}

test('a wrong password is refused with a PHI-free message', async ({ browser }) => {
  const bp = await openBridgedPage(await browser.newContext(), makeCore());
  await bp.page.getByLabel('Username').fill('drgrey');
  await bp.page.getByLabel('Password').fill('wrong');
  await bp.page.getByRole('button', { name: 'Sign in' }).click();
  await expect(bp.page.getByRole('alert')).toHaveText('Wrong username or password.');
});

test('the chart shows banner, allergies, vitals trend and notes', async ({ browser }) => {
  const { page } = await signInAndOpenCanary(browser, makeCore());
  await expect(page.getByTestId('banner-allergies')).toContainText(CANARY.allergy);
  await expect(page.getByTestId('vital-hr').locator('svg')).toBeVisible();
  await expect(page.getByTestId('note').first()).toContainText(CANARY.note);
  await page.screenshot({ path: 'test-results/screens/chart.png', fullPage: true });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.length}`)).toEqual([]);
});

test('lock hides all PHI, moves focus, and unlock brings back the chart and the note draft', async ({ browser }) => {
  const core = makeCore();
  const bp = await signInAndOpenCanary(browser, core);
  const { page } = bp;
  await page.getByRole('button', { name: 'Write progress note' }).click();
  await page.getByLabel(/Progress note/).fill(`Draft about ${CANARY.given}`);
  await expect(page.getByTestId('draft-state')).toHaveText('Draft saved');

  core.lockNow('idle');
  await bp.eventsDelivered();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expectNoPhiInPage(page, [...Object.values(CANARY), `Draft about`]);
  await expectWebStorageEmpty(page);
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.screenshot({ path: 'test-results/screens/lock.png' });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);

  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('chart-banner')).toContainText(CANARY.mrn);
  await expect(page.getByLabel(/Progress note/)).toHaveValue(`Draft about ${CANARY.given}`);
  await expectWebStorageEmpty(page);
});

test('search and login screens pass axe; nothing reaches storage, URL or title', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const { page } = await openBridgedPage(ctx, makeCore());
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/login.png' });
  await page.getByLabel('Username').fill('drgrey');
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('searchbox').fill('Canary');
  await expect(page.getByRole('grid', { name: 'Search results' })).toContainText(CANARY.mrn);
  expect((await new AxeBuilder({ page }).analyze()).violations.map((v) => v.id)).toEqual([]);
  await page.screenshot({ path: 'test-results/screens/search.png' });
  await expect(page).toHaveTitle('Clinic EHR');
  expect(page.url()).toBe(DEV_HOST_ENTRY_URL);
  // The page runs under the Electron shell's CSP (served by the shell's own app:// handler):
  // connect-src 'none' refuses even a same-origin fetch, inline script never runs.
  expect(await page.evaluate(() => fetch('/index.html').then(() => 'fetched', () => 'refused'))).toBe('refused');
  await page.addScriptTag({ content: 'window.__inline = 1' }).catch(() => undefined);
  expect(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).toBeUndefined();
  await expectWebStorageEmpty(page);
});

test('Ctrl+L right after typing still keeps the note draft (saved before the lock)', async ({ browser }) => {
  const core = makeCore();
  const { page } = await signInAndOpenCanary(browser, core);
  await page.getByRole('button', { name: 'Write progress note' }).click();
  await expect(page.getByTestId('draft-state')).toHaveText('');
  await page.getByLabel(/Progress note/).fill('Typed just before locking');
  await page.keyboard.press('Control+l');
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expectNoPhiInPage(page, [...Object.values(CANARY), 'Typed just before']);
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByLabel(/Progress note/)).toHaveValue('Typed just before locking');
});
