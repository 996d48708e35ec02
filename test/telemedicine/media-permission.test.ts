/**
 * Camera and microphone go with the visit: the core's mediaCaptureAllowed() (what the Electron
 * permission handlers and the development host ask at each question) is true only while the user in
 * front hosts an open visit and IT policy allows video visits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../access/harness';
import { fakeTelemedicine } from './fakes';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function setup(policy: Record<string, unknown> = {}): Promise<Harness> {
  h = await createHarness({ policy, telemedicine: fakeTelemedicine().parts });
  return h;
}

describe('media capture follows the open visit', () => {
  it('is refused before a visit, allowed while it is open (also behind the lock), refused once it ends', async () => {
    const h = await setup();
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
    await h.login('phil');
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    expect(h.ws.mediaCaptureAllowed()).toBe(true);
    // The lock hides the chart but does not cut the call: the stream it holds stays allowed.
    h.ws.lockNow('user');
    expect(h.ws.mediaCaptureAllowed()).toBe(true);
    await h.ok('visits.end', { visitId: v.visitId });
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
  });

  it('ends with sign-out', async () => {
    const h = await setup();
    await h.login('phil');
    await h.ok('visits.start', { patientId: 'p-own' });
    expect(h.ws.mediaCaptureAllowed()).toBe(true);
    await h.ok('auth.logout', {});
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
  });

  it('is never allowed when IT policy turns video visits off (the visit cannot start either)', async () => {
    const h = await setup({ videoVisits: false });
    await h.login('phil');
    const r = await h.call('visits.start', { patientId: 'p-own' });
    expect(r.ok ? null : r.error.code).toBe('FORBIDDEN');
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
  });

  it("another user's open visit does not give the camera to the user now in front", async () => {
    const h = await setup();
    await h.login('phil');
    await h.ok('visits.start', { patientId: 'p-own' });
    h.ws.lockNow('user');
    // A colleague signs in at the shared workstation over the locked session.
    await h.login('nina');
    expect(h.ws.sessions.front?.user.username).toBe('nina');
    expect(h.ws.mediaCaptureAllowed()).toBe(false);
  });
});
