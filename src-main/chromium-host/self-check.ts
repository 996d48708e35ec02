/**
 * `npm start -- --check`: what a newcomer (or CI) can run to know the workstation really works here.
 * Through the UI of the running host, as the demo nurse: sign in, first sync, open one of her
 * patients' charts, record a heart rate, sign out. Each step has a name and a bound, so a failure
 * says where it stopped, never what a chart held.
 */
import type { Locator, Page } from 'playwright-core';

export const DEMO_NURSE = { username: 'nurse', password: 'demo-nurse-2026' } as const;

export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

const STEP_MS = 60_000;

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = STEP_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new CheckFailed(`${what} (waited ${Math.round(timeoutMs / 1000)} s)`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const visible = (what: string, l: Locator) => until(what, () => l.first().isVisible());
const textOf = async (l: Locator) => (await l.first().textContent()) ?? '';

/** Runs the check; resolves with the steps done, throws CheckFailed naming the step that did not happen. */
export async function runSelfCheck(page: Page, user: { username: string; password: string } = DEMO_NURSE, log: (line: string) => void = () => {}): Promise<void> {
  const step = (s: string) => log(`start check: ${s}`);

  step('sign in as the demo nurse');
  await visible('the sign-in screen did not appear', page.getByLabel('Username'));
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await until('sign-in did not reach the app (wrong demo password, or the server refused it)', async () => {
    if (await page.getByTestId('statusbar').isVisible()) return true;
    const alert = await page.getByRole('alert').first().textContent({ timeout: 100 }).catch(() => null);
    if (alert) throw new CheckFailed(`sign-in refused: ${alert}`);
    return false;
  });

  step('first sync');
  await page.getByRole('button', { name: 'Sync now' }).click();
  await until('the first sync did not finish', async () => !(await textOf(page.getByTestId('last-sync'))).includes('never') && !(await textOf(page.getByTestId('sync-state'))).includes('syncing'));

  step("open one of the nurse's charts");
  await page.getByRole('button', { name: 'Patients' }).click();
  await visible('"My patients" stayed empty after the sync', page.locator('#my-patients [id^="my-patients-row-"]'));
  await page.getByRole('searchbox').press('Enter');
  await visible('the chart did not open', page.getByTestId('chart-banner'));

  step('record a heart rate');
  await page.getByRole('button', { name: 'Record vitals' }).click();
  await page.getByLabel(/Heart rate/).fill('72');
  await page.getByRole('button', { name: 'Save vitals' }).click();
  await visible('the vital sign was not saved', page.getByTestId('vitals-saved'));

  step('sign out');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await visible('signing out did not return to the sign-in screen', page.getByLabel('Username'));
}
