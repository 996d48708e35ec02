/**
 * Where PHI must never be, checked from inside the page: the DOM text and attributes, the title,
 * the URL, localStorage, sessionStorage, IndexedDB databases and cookies.
 */
import { expect, type Page } from '@playwright/test';

export const CANARY = {
  given: 'Zebediah',
  family: 'Canarywhistle',
  mrn: 'CANARY-MRN-0042',
  birthDate: '1931-02-27',
  allergy: 'Canarycillin',
  note: 'Canary note: tolerates seed diet well',
} as const;

export interface PhiSnapshot {
  html: string;
  title: string;
  url: string;
  local: string;
  session: string;
  idbNames: string[];
  cookies: string;
}

export async function phiSnapshot(page: Page): Promise<PhiSnapshot> {
  return page.evaluate(async () => {
    const dump = (s: Storage) => JSON.stringify(Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i) ?? '')])));
    const dbs = 'databases' in indexedDB ? await indexedDB.databases() : [];
    return {
      html: document.documentElement.outerHTML,
      title: document.title,
      url: location.href,
      local: dump(localStorage),
      session: dump(sessionStorage),
      idbNames: dbs.map((d) => d.name ?? ''),
      cookies: document.cookie,
    };
  });
}

/** No canary string anywhere a page can keep it. */
export async function expectNoPhiInPage(page: Page, needles: readonly string[] = Object.values(CANARY)): Promise<void> {
  const snap = await phiSnapshot(page);
  for (const needle of needles) {
    for (const [where, text] of Object.entries(snap)) {
      expect(String(text), `${needle} found in ${where}`).not.toContain(needle);
    }
  }
}

/** Web storage untouched altogether (the renderer writes nothing there, PHI or not). */
export async function expectWebStorageEmpty(page: Page): Promise<void> {
  const snap = await phiSnapshot(page);
  expect(snap.local).toBe('{}');
  expect(snap.session).toBe('{}');
  expect(snap.idbNames).toEqual([]);
  expect(snap.cookies).toBe('');
}
