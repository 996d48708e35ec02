/**
 * A large chart stays whole on screen (issue 14): a Synthea-shaped chart of ~1,100 records put in
 * a doctor's workstation vault (as an import would) shows every problem, medication and allergy,
 * the latest vitals, and a "Showing N of M … older ones are not loaded yet" pager that loads the
 * timeline by clinical date until it says all are shown; financial records are named as not shown.
 */
import { test, expect } from '@playwright/test';
import type { Resource } from '@medplum/fhirtypes';
import { DOCTOR } from './workstation';
import { openByMrn, useE2eStack } from './stack';
import { resolvedResources, syntheaBundle } from '../helpers/synthea';

/** A Ward A patient (nurse + doctor) the other specs leave alone. */
const MRN = 'DEMO-000009';
const PATIENT_ID = 'demo-p-0009';

const stack = useE2eStack();

test('every section of a 1,100-record chart, and the pager through its history', async ({ browser }) => {
  const ws = await stack.station(browser, 'large-chart');
  const page = ws.page;
  await ws.loginAndSync(DOCTOR);

  const resources = resolvedResources(syntheaBundle(909, { entries: 1100, patientId: PATIENT_ID }))
    .filter((r) => !['Patient', 'Organization', 'Location', 'Practitioner', 'PractitionerRole'].includes(r.resourceType));
  const vault = ws.core.vault;
  vault.transaction(() => {
    for (const r of resources) vault.resources.put({ resource: r as unknown as Resource, patientId: PATIENT_ID, version: 1, status: 'synced' });
  });
  const count = (t: string) => resources.filter((r) => r.resourceType === t).length;

  await openByMrn(page, MRN);
  const section = (name: string) => page.getByRole('region', { name });
  // Every problem, medication and allergy of the import is listed (the demo chart adds its own).
  expect(await section('Problems').getByRole('listitem').count()).toBeGreaterThanOrEqual(count('Condition'));
  expect(await section('Medications').getByRole('listitem').count()).toBeGreaterThanOrEqual(count('MedicationRequest'));
  expect(await section('Allergies').getByRole('listitem').count()).toBeGreaterThanOrEqual(count('AllergyIntolerance'));
  await expect(page.getByTestId('vital-hr')).toBeVisible();
  await expect(section('Procedures')).toBeVisible();
  await expect(section('Immunizations')).toBeVisible();

  const status = page.getByTestId('chart-pager-status');
  await expect(status).toContainText(/Showing \d+ of \d+ .* older ones are not loaded yet/);
  await expect(page.getByTestId('chart-not-shown')).toContainText(`${count('Claim')} claims`);
  await expect(page.getByTestId('chart-not-shown')).toContainText(`${count('ExplanationOfBenefit')} explanations of benefit`);
  await ws.screenshot('pager');

  const shownOf = async () => {
    const m = /Showing (?:all )?(\d+)(?: of (\d+))?/.exec((await status.textContent()) ?? '');
    return { shown: Number(m?.[1]), total: Number(m?.[2] ?? m?.[1]) };
  };
  const first = await shownOf();
  expect(first.shown).toBeLessThan(first.total);
  for (let i = 0; i < 20 && (await page.getByTestId('load-older').count()) > 0; i++) {
    const before = await shownOf();
    await page.getByTestId('load-older').click();
    await expect.poll(async () => (await shownOf()).shown).toBeGreaterThan(before.shown);
  }
  await expect(status).toContainText(`Showing all ${first.total}`);
  await expect(page.getByTestId('load-older')).toHaveCount(0);
});
