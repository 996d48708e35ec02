/**
 * What every end-to-end spec file sets up the same way: one
 * sync server for the file, workstations launched per test and closed after it, and the axe check.
 * Call `useE2eStack()` at the top of a spec file.
 */
import { test, expect, type Browser, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { launchWorkstation, startE2eServer, type E2eServer, type E2eWorkstation } from './workstation';

export interface E2eStack {
  /** The sync server of this spec file (stop/restart it to go offline). */
  readonly server: E2eServer;
  /** A workstation (own data dir, keychain and browser context), closed after the test. */
  station(browser: Browser, name: string): Promise<E2eWorkstation>;
}

export function useE2eStack(): E2eStack {
  let server: E2eServer | undefined;
  const running: E2eWorkstation[] = [];
  test.beforeAll(async () => {
    server = await startE2eServer();
  });
  test.afterEach(async () => {
    while (running.length) await running.pop()!.close();
  });
  test.afterAll(async () => {
    await server?.close();
  });
  return {
    get server(): E2eServer {
      if (!server) throw new Error('The e2e stack is not started (use it inside a test).');
      return server;
    },
    async station(browser, name) {
      if (!server) throw new Error('The e2e stack is not started (use it inside a test).');
      const ws = await launchWorkstation({ browser, server, name });
      running.push(ws);
      return ws;
    },
  };
}

/** No axe-core violations on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  expect(violations.map((v) => `${what}: ${v.id} (${v.nodes.length})`)).toEqual([]);
}

/** Search by MRN, open the first result with Enter, wait for the banner. */
export async function openByMrn(page: Page, mrn: string): Promise<void> {
  await page.getByRole('button', { name: 'Patients' }).click();
  await page.getByRole('searchbox').fill(mrn);
  await expect(page.locator('#search-results')).toContainText(mrn);
  await page.getByRole('searchbox').press('Enter');
  await expect(page.getByTestId('chart-banner')).toContainText(mrn);
}
