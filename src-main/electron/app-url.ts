/**
 * Our renderer's one origin: app://ehr. The renderer is served from it (never file://) so that it has
 * a real origin for CSP 'self' and for the IPC sender check, and so that no local file is reachable.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'ehr';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** What the window loads; a reload after a crash loads it with the `locked` marker. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * True only for app://ehr/... with no credentials and no port: `app://ehr@evil/` and
 * `app://ehr.evil/` are someone else. Unparseable input is not ours.
 */
export function isAppUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && u.port === '' && u.username === '' && u.password === '';
}
