/**
 * A video visit end to end in Debian's Chromium with fake camera and microphone: the physician's
 * workstation (the production renderer on the real core, camera granted by the core's own rule while
 * the visit is open) and the patient's page served by the real sync server over TLS 1.3, in a second
 * browser context. Asserted: both ends report DTLS connected, an allowed SRTP profile and bytes
 * flowing (getStats), media frames pass the frame-level encryption both ways; the inactivity lock
 * hides the chart but not the call; a recording made in the visit plays back from the chart and its
 * decrypted bytes are the bytes recorded; the view is audited; a physician outside the care team is
 * refused playback; the camera grant ends with the visit.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import playwrightConfig from '../../playwright.config';
import { DEV_HOST_ORIGIN } from '../../src-main/chromium-host/renderer-origin';
import { ALLOWED_SRTP_CIPHERS } from '../../src-shared/sync/visits';
import { expectAccessible, openByMrn, useE2eStack } from './stack';
import { DOCTOR, DOCTOR2, PRIVACY } from './workstation';

const MRN = 'DEMO-000003';
/** The demo seed's patient 3 (Ward A: doctor's care team, not doctor2's). */
const PATIENT_ID = 'demo-p-0003';

test.use({
  launchOptions: {
    ...playwrightConfig.use?.launchOptions,
    args: [
      ...(playwrightConfig.use?.launchOptions?.args ?? []),
      // A synthetic camera and a beeping microphone; no prompt (grants still decide).
      '--use-fake-device-for-media-stream',
      // Host candidates as IP addresses: loopback peers, no mDNS resolver on a CI box.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  },
});

// The later tests read the first one's recording from the same server: run in order, stop at a failure.
test.describe.configure({ mode: 'serial' });

const stack = useE2eStack();

/**
 * Test-only instrumentation, installed before the page's own scripts: keep every RTCPeerConnection
 * the page creates so the test can read its getStats(). The page's code is unchanged.
 */
const TRACK_PEERS = `(() => {
  const Original = window.RTCPeerConnection;
  const all = [];
  function Tracked(...args) { const pc = new Original(...args); all.push(pc); return pc; }
  Tracked.prototype = Original.prototype;
  Object.setPrototypeOf(Tracked, Original);
  window.RTCPeerConnection = Tracked;
  Object.defineProperty(window, '__e2ePeers', { value: all });
})();`;

interface MediaStats {
  dtlsState: string | null;
  srtpCipher: string | null;
  tlsVersion: string | null;
  bytesReceived: number;
  bytesSent: number;
  framesDecoded: number;
  connectionState: string | null;
}

/** The newest peer connection's transport and RTP figures, from getStats() in the page. */
async function mediaStats(page: Page): Promise<MediaStats> {
  return page.evaluate(async () => {
    const peers = (window as unknown as { __e2ePeers: RTCPeerConnection[] }).__e2ePeers;
    const pc = peers[peers.length - 1];
    const out = { dtlsState: null as string | null, srtpCipher: null as string | null, tlsVersion: null as string | null, bytesReceived: 0, bytesSent: 0, framesDecoded: 0, connectionState: pc?.connectionState ?? null };
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'transport') {
        out.dtlsState = (s.dtlsState as string) ?? null;
        out.srtpCipher = (s.srtpCipher as string) ?? null;
        out.tlsVersion = (s.tlsVersion as string) ?? null;
      }
      if (s.type === 'inbound-rtp') {
        out.bytesReceived += Number(s.bytesReceived ?? 0);
        out.framesDecoded += Number(s.framesDecoded ?? 0);
      }
      if (s.type === 'outbound-rtp') out.bytesSent += Number(s.bytesSent ?? 0);
    });
    return out;
  });
}

async function expectSecureMediaFlowing(page: Page, who: string): Promise<MediaStats> {
  let last: MediaStats | null = null;
  await expect.poll(async () => {
    last = await mediaStats(page);
    return last.dtlsState === 'connected' && last.bytesReceived > 20_000 && last.bytesSent > 20_000 && last.framesDecoded > 5;
  }, { message: `${who}: DTLS connected and media both ways`, timeout: 30_000 }).toBe(true);
  const s = last!;
  // An SRTP profile the contract allows (AES-GCM or AES-CM-128 with 80-bit tags), DTLS 1.2 or 1.3.
  expect(ALLOWED_SRTP_CIPHERS, who).toContain(s.srtpCipher);
  expect(s.srtpCipher, who).not.toMatch(/_32$|NULL/i);
  expect(['FEFD', 'FEFC'], who).toContain(s.tlsVersion);
  return s;
}

/** Every file of the server's data dir, as latin1 text (PGlite's pages and the log). */
function serverStorage(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p).toString('latin1'));
    }
  };
  walk(dir);
  return out.join('\n');
}

test('a video visit: secure media both ways, the lock keeps the call, a recording plays back as recorded, every view audited', async ({ browser }) => {
  const ws = await stack.station(browser, 'visit-doctor');
  const page = ws.page;
  // Peer tracking must be in place before the renderer runs: install it, then load the app again.
  await page.addInitScript({ content: TRACK_PEERS });
  await page.reload();
  await ws.loginAndSync(DOCTOR);

  // Record what the renderer hands to main (the recorder's chunks), to compare with playback.
  const sentChunks = new Map<number, string>();
  const invoke = ws.core.invoke.bind(ws.core);
  ws.core.invoke = async (channel, input) => {
    if (channel === 'recordings.chunk') {
      const c = input as { seq: number; data: string };
      sentChunks.set(c.seq, c.data);
    }
    return invoke(channel, input);
  };

  await openByMrn(page, MRN);
  const patientName = (await page.locator('.chart-banner .name').innerText()).trim();
  expect(patientName.length).toBeGreaterThan(3);
  // No visit, no camera: the core's rule says no and the page holds no grant.
  expect(ws.core.mediaCaptureAllowed()).toBe(false);
  expect(await page.evaluate(() => navigator.permissions.query({ name: 'camera' as PermissionName }).then((p) => p.state))).not.toBe('granted');

  await page.getByTestId('start-visit').click();
  await expect(page.getByTestId('visit-status')).toContainText('Waiting for the patient');
  expect(ws.core.mediaCaptureAllowed()).toBe(true);
  await expectAccessible(page, 'visit panel');

  // The link goes to the clipboard (granted for the visit); the test reads it back.
  await page.context().grantPermissions(['clipboard-read'], { origin: DEV_HOST_ORIGIN });
  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('link-status')).toContainText('Link copied.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(new RegExp(`^${stack.server.url}/visit/[A-Za-z0-9_-]{43}#k=[A-Za-z0-9_-]{43}$`));
  const mediaKey = link.split('#k=')[1]!;

  // The patient: another browser context, no account, the server's self-signed certificate.
  const patientContext = await browser.newContext({ ignoreHTTPSErrors: true });
  await patientContext.grantPermissions(['camera', 'microphone'], { origin: new URL(stack.server.url).origin });
  const patient = await patientContext.newPage();
  await patient.addInitScript({ content: TRACK_PEERS });
  try {
    await patient.goto(link);
    await expect(patient.locator('#status')).toContainText('Check your picture and sound');
    // The key left the address bar at once; the page names nobody.
    expect(patient.url()).not.toContain('#k=');
    expect(await patient.locator('body').innerText()).not.toContain(patientName);
    await patient.locator('#consent-yes').click();
    await patient.locator('#join').click();

    await expect(page.getByTestId('visit-status')).toContainText('Connected', { timeout: 30_000 });
    await expect(page.getByTestId('patient-page-consent')).toContainText('yes');
    await expectSecureMediaFlowing(page, 'physician');
    await expectSecureMediaFlowing(patient, 'patient');
    // Each side decodes the other's video only through the frame-level decryption: frames arrived.
    await expect.poll(() => page.getByTestId('remote-video').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => patient.locator('#remote').evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);

    // The clinician records the patient's verbal consent too, then records a few seconds.
    await page.getByTestId('consent-yes').click();
    await page.getByTestId('record').click();
    await expect(page.getByRole('status').filter({ hasText: 'Recording' }).first()).toBeVisible();
    await expect.poll(() => sentChunks.size, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);

    // Fifteen idle minutes: the lock hides the chart and the videos, the call goes on.
    ws.clock.advance(15 * 60_000);
    await ws.eventsDelivered();
    await expect(page.getByTestId('lock-screen')).toBeVisible();
    await expect(page.getByTestId('chart-banner')).toHaveCount(0);
    const bytesBefore = (await mediaStats(patient)).bytesReceived;
    await expect.poll(async () => (await mediaStats(patient)).bytesReceived, { timeout: 10_000 }).toBeGreaterThan(bytesBefore + 10_000);
    expect((await mediaStats(page)).connectionState).toBe('connected');
    await page.getByLabel('Password').fill(DOCTOR.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(page.getByTestId('chart-banner')).toBeVisible();

    await page.getByTestId('stop-recording').click();
    await expect(page.getByTestId('record')).toBeVisible({ timeout: 20_000 });
    await page.getByTestId('end-visit').click();
    await expect(patient.locator('#status')).toContainText(/ended/i, { timeout: 15_000 });
  } finally {
    await patientContext.close();
  }
  // The camera went with the visit.
  await expect.poll(() => ws.core.mediaCaptureAllowed()).toBe(false);
  expect(await page.evaluate(() => navigator.permissions.query({ name: 'camera' as PermissionName }).then((p) => p.state))).not.toBe('granted');

  // Playback from the chart's Recordings section: decrypted in main, the bytes the recorder produced.
  const recordings = page.getByTestId('recordings');
  await recordings.getByRole('button', { name: 'Refresh recordings' }).click();
  await expect(recordings.getByTestId('recording')).toHaveCount(1, { timeout: 20_000 });
  await recordings.getByTestId('play-recording').click();
  await expect(page.getByTestId('recording-video')).toBeVisible({ timeout: 20_000 });
  const recordingId = (await ws.core.invoke('recordings.list', { patientId: PATIENT_ID }) as { ok: true; value: Array<{ recordingId: string; chunkCount: number }> }).value[0]!;
  expect(recordingId.chunkCount).toBe(sentChunks.size);
  const played: string[] = [];
  for (let from = 0; ;) {
    const r = await ws.core.invoke('recordings.read', { recordingId: recordingId.recordingId, from, limit: 4, purpose: 'download' });
    if (!r.ok) throw new Error(r.error.code);
    const pageOf = r.value as { chunks: Array<{ seq: number; data: string }>; done: boolean };
    played.push(...pageOf.chunks.map((c) => c.data));
    from += pageOf.chunks.length;
    if (pageOf.done) break;
  }
  expect(Buffer.from(played.join(''), 'base64').equals(Buffer.from([...sentChunks.entries()].sort((a, b) => a[0] - b[0]).map(([, d]) => d).join(''), 'base64'))).toBe(true);

  // Every view and download is an audit entry on the workstation's chain, naming the recording.
  const audit = ws.core.vault.audit.list({ limit: 1_000_000 });
  const views = audit.filter((e) => e.type === 'recording-view' || e.type === 'recording-download');
  expect(views.map((e) => e.type)).toEqual(expect.arrayContaining(['recording-view', 'recording-download']));
  for (const v of views) expect((v.resourceRefs ?? []).join(' ')).toContain(recordingId.recordingId);
  for (const t of ['visit-start', 'visit-consent', 'recording-start']) expect(audit.some((e) => e.type === t), t).toBe(true);

  // Nothing of the patient, the media key or a chunk in the server's storage or log in plaintext.
  const stored = serverStorage(stack.server.dataDir);
  expect(stored).not.toContain(mediaKey);
  expect(stored).not.toContain(patientName);
  const sample = Buffer.from(sentChunks.get(1)!, 'base64').subarray(200, 264).toString('latin1');
  expect(stored).not.toContain(sample);
});

test('a physician outside the care team is refused the recording (no break-glass), with a clear message', async ({ browser }) => {
  // Another physician's visit recording on a patient doctor2 does not treat.
  const ws = await stack.station(browser, 'visit-doctor2');
  await ws.loginAndSync(DOCTOR2);
  const r = await ws.core.invoke('recordings.list', { patientId: PATIENT_ID });
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(r.error.code);
    expect(r.error.message).not.toContain('DEMO-000003');
  }
});

test("the privacy officer's review shows who recorded and who viewed the recording, and when", async ({ browser }) => {
  // The first test's recording (same server): the doctor recorded it, viewed and downloaded it.
  const ws = await stack.station(browser, 'visit-privacy');
  const page = ws.page;
  await ws.login(PRIVACY);
  await page.getByRole('button', { name: 'Privacy review' }).click();
  await page.getByLabel('Patient id (empty: all)').fill(PATIENT_ID);
  await page.getByRole('button', { name: 'Show recording access' }).click();
  const log = page.getByRole('table', { name: 'Recording access log' });
  await expect(log).toBeVisible();
  const rows = log.locator('tbody tr');
  await expect(rows.filter({ hasText: 'Recorded' }).filter({ hasText: 'u-physician' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'Viewed' }).filter({ hasText: 'u-physician' })).not.toHaveCount(0);
  await expect(rows.filter({ hasText: 'Downloaded' }).filter({ hasText: 'u-physician' })).not.toHaveCount(0);
  await expectAccessible(page, 'recording access log');
  // A lock drops the log from the screen (it names patients).
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expect(log).toHaveCount(0);
});
