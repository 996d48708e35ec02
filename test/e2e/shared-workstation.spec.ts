/**
 * The clinic's people, end to end (production renderer in Chromium, real core, real keychain, real
 * sync server): two nurses of different wards share one workstation and switch user on the lock
 * screen, each seeing only her own patients while the vault holds both wards, with drafts staying
 * per user; and a privacy officer on another workstation reviews a break-glass episode and records
 * a disposition from the clinic-wide queue.
 */
import { test, expect, type Page } from '@playwright/test';
import { NURSE, PRIVACY, RESTRICTED_PATIENT, type E2eWorkstation } from './workstation';
import { expectAccessible, openByMrn, useE2eStack } from './stack';
import { expectNoPhiInPage } from './phi-probe';
import { createServerClient } from '../../src-main/core/sync/server-client';
import type { DraftSummary } from '../../src-shared/api/types';
import type {} from '../../src-renderer/client/ehr-client';

/** demo seed of 12: Ward A = demo-p-0002..0009, Ward B = demo-p-0010..0012 (MRN DEMO-0000NN). */
const WARD_A_MRN = 'DEMO-000003';
const WARD_A_ID = 'demo-p-0003';
const WARD_B_MRN = 'DEMO-000010';
const NURSE_B = { username: 'nurse.b', password: 'ward-b-nurse-2026' } as const;
const ADMIN = { username: 'admin', password: 'demo-admin-2026' } as const;

const stack = useE2eStack();

/** IT's part: a Ward B nurse on Ward B's care team (admin API, through this workstation's enrolled, pinned client). */
async function addWardBNurse(ws: E2eWorkstation): Promise<void> {
  const client = createServerClient({ serverUrl: stack.server.url, fingerprint: stack.server.fingerprint, deviceId: ws.core.deviceId });
  try {
    await client.login(ADMIN);
    const user = (await client.call({ method: 'POST', path: '/v1/admin/users', auth: true, body: { username: NURSE_B.username, displayName: 'Bea Ward-B Nurse', password: NURSE_B.password, roles: ['nurse'] } })) as { id: string };
    const { teams } = (await client.call({ method: 'GET', path: '/v1/admin/care-teams', auth: true })) as { teams: Array<{ id: string; name: string; userIds: string[]; patientIds: string[] }> };
    const wardB = teams.find((t) => t.id === 'team-ward-b')!;
    await client.call({ method: 'PUT', path: '/v1/admin/care-teams/team-ward-b', auth: true, body: { name: wardB.name, userIds: [...wardB.userIds, user.id], patientIds: wardB.patientIds } });
    await client.logout();
  } finally {
    client.close();
  }
}

async function lockAndSwitch(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await page.getByRole('button', { name: 'Switch user' }).click();
  await expect(page.getByRole('heading', { name: /sign in/ })).toBeVisible();
}

test('two nurses on one workstation: switch user on the lock screen, each sees only her patients, drafts stay per user', async ({ browser }) => {
  const ws = await stack.station(browser, 'shared-ward');
  await addWardBNurse(ws);
  await ws.loginAndSync(NURSE);
  await expect(ws.page.locator('#my-patients')).toContainText(WARD_A_MRN);
  await expect(ws.page.locator('#my-patients')).not.toContainText(WARD_B_MRN);
  await openByMrn(ws.page, WARD_A_MRN);
  const wardAName = (await ws.page.locator('.chart-banner .name').innerText()).trim();
  // A draft of nurse A's (through the page's window.ehr, the contract the screens autosave with).
  const draft = 'Ward A handover: wound dressing changed, review at 18:00.';
  const saved = await ws.page.evaluate(([id, content]) => window.ehr?.invoke('drafts.save', { key: `handover:${id}`, patientId: id, content }), [WARD_A_ID, draft] as const);
  expect(saved).toMatchObject({ ok: true });

  await lockAndSwitch(ws.page);
  await expectNoPhiInPage(ws.page, [wardAName, WARD_A_MRN, 'wound dressing']);
  // Nurse A waits, locked, in the background; the sign-in screen offers her by name.
  await expect(ws.page.getByTestId('waiting-sessions')).toContainText('Nadia Nurse');
  await expectAccessible(ws.page, 'sign-in with a waiting session');
  await ws.screenshot('switch-user');
  await ws.loginAndSync(NURSE_B);
  await expect(ws.page.locator('#my-patients')).toContainText(WARD_B_MRN);
  await expect(ws.page.locator('#my-patients')).not.toContainText(WARD_A_MRN);
  // Ward A's chart is still cached here (no re-pull when nurse A comes back)...
  expect(ws.core.vault.patients.getById(WARD_A_ID)).not.toBeNull();
  // ...but nurse B may not read it, and nurse A's draft is not hers.
  const refused = await ws.page.evaluate((id) => window.ehr?.invoke('patients.open', { patientId: id }), WARD_A_ID);
  expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  const drafts = await ws.page.evaluate(() => window.ehr?.invoke('drafts.list', {}));
  expect(drafts).toMatchObject({ ok: true, value: [] });
  await expectNoPhiInPage(ws.page, [wardAName, 'wound dressing']);

  await lockAndSwitch(ws.page);
  await expect(ws.page.getByTestId('waiting-sessions')).toContainText('Bea Ward-B Nurse');
  await ws.page.getByTestId('waiting-sessions').getByRole('button', { name: /Nadia Nurse/ }).click();
  await expect(ws.page.getByLabel('Username')).toHaveValue(NURSE.username);
  await ws.page.getByLabel('Password').fill(NURSE.password);
  await ws.page.getByRole('button', { name: 'Sign in' }).click();
  await expect(ws.page.getByTestId('statusbar')).toBeVisible();
  await expect(ws.page.locator('#my-patients')).toContainText(WARD_A_MRN);
  await expect(ws.page.locator('#my-patients')).not.toContainText(WARD_B_MRN);
  await openByMrn(ws.page, WARD_A_MRN);
  const mine = (await ws.page.evaluate(() => window.ehr?.invoke('drafts.list', {}))) as { ok: true; value: DraftSummary[] };
  expect(mine.value.map((d) => d.patientId)).toEqual([WARD_A_ID]);
  const back = await ws.page.evaluate((draftId) => window.ehr?.invoke('drafts.get', { draftId }), mine.value[0]!.draftId);
  expect(back).toMatchObject({ ok: true, value: { content: draft } });
});

test('a privacy officer dispositions a break-glass episode raised on another workstation', async ({ browser }) => {
  const ward = await stack.station(browser, 'bg-raiser');
  await ward.loginAndSync(NURSE);
  await ward.page.getByRole('searchbox').fill('DEMO-000001');
  await expect(ward.page.getByText('No patient matches.')).toBeVisible();
  await ward.page.getByRole('button', { name: 'Request emergency access (break-glass)' }).click();
  await ward.page.getByLabel('Patient id').fill(RESTRICTED_PATIENT);
  await ward.page.getByLabel('Reason').selectOption('ETREAT');
  const justification = 'Found collapsed in the car park, no care-team physician reachable.';
  await ward.page.getByLabel('Justification').fill(justification);
  await ward.page.getByLabel('Your password').fill(NURSE.password);
  await ward.page.getByRole('dialog').getByRole('button', { name: 'Open with emergency access' }).click();
  await expect(ward.page.getByTestId('chart-banner')).toContainText('DEMO-000001', { timeout: 20_000 });
  // The chart read during the grant reaches the server with the audit chain.
  await ward.page.getByRole('button', { name: 'Sync now' }).click();
  await expect(ward.page.getByTestId('sync-state')).not.toContainText('syncing', { timeout: 30_000 });

  const office = await stack.station(browser, 'privacy-office');
  await office.login(PRIVACY);
  await office.page.getByRole('button', { name: 'Privacy review' }).click();
  const row = office.page.getByTestId('review-queue').locator('tr', { hasText: RESTRICTED_PATIENT }).filter({ hasText: 'Break-glass' }).first();
  await expect(row).toContainText('ETREAT');
  await expect(row).toContainText('open');
  await row.getByRole('button', { name: 'Review' }).click();
  const episode = office.page.getByTestId('review-episode');
  await expect(episode.getByTestId('review-justification')).toHaveText(justification);
  await expect(episode.getByRole('table', { name: 'Records read' })).toContainText(`Patient/${RESTRICTED_PATIENT}`);
  await expectAccessible(office.page, 'privacy review');
  await office.screenshot('privacy-review');
  await episode.getByLabel('Follow-up needed').check();
  await episode.getByLabel('Note').fill('Asked the ward manager to confirm the car-park call-out.');
  await episode.getByRole('button', { name: 'Record disposition' }).click();
  await expect(episode.getByTestId('review-history')).toContainText('follow-up by u-privacy');
  await expect(row).toContainText('follow-up');
  const download = office.page.waitForEvent('download');
  await episode.getByRole('button', { name: 'Export FHIR AuditEvent' }).click();
  await expect(episode.getByRole('status')).toContainText(/Exported \d+ FHIR AuditEvents?/);
  expect((await download).suggestedFilename()).toMatch(/^audit-(offline-)?break-glass-.+\.json$/);
});
