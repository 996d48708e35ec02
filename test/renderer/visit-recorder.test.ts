import { describe, expect, it } from 'vitest';
import { pickMimeType, splitBytes, toBase64 } from '../../src-renderer/visit/recorder';
import { createEhrStore } from '../../src-renderer/state/store';
import { VISIT_LIMITS } from '../../src-shared/sync/visits';

describe('visit recorder, pure parts', () => {
  it('splits a blob larger than the chunk limit, keeping every byte in order', () => {
    const bytes = new Uint8Array(VISIT_LIMITS.chunkBytes * 2 + 5).map((_, i) => i % 251);
    const parts = splitBytes(bytes);
    expect(parts.map((p) => p.length)).toEqual([VISIT_LIMITS.chunkBytes, VISIT_LIMITS.chunkBytes, 5]);
    const joined = new Uint8Array(bytes.length);
    let at = 0;
    for (const p of parts) { joined.set(p, at); at += p.length; }
    expect(joined).toEqual(bytes);
  });

  it('base64 of a full chunk fits the channel and decodes back', () => {
    const bytes = new Uint8Array(VISIT_LIMITS.chunkBytes).map((_, i) => (i * 7) % 256);
    const b64 = toBase64(bytes);
    expect(b64.length).toBeLessThanOrEqual(Math.ceil(VISIT_LIMITS.chunkBytes / 3) * 4);
    expect(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))).toEqual(bytes);
  });

  it('asks for a webm type the channel accepts', () => {
    expect(pickMimeType(() => true)).toMatch(/^video\/webm(;codecs=[a-z0-9.,]+)?$/);
    expect(pickMimeType(() => false)).toBe('video/webm');
  });
});

describe('visit slice', () => {
  it('holds ids and states only, and sign-out clears it', () => {
    const store = createEhrStore();
    store.getState().setVisit({ visitId: 'v1', patientId: 'p1', status: 'connected', recordingConsent: true, recordingAllowed: true, patientPageConsent: null, recordingId: null, endedReason: null });
    store.getState().patchVisit('other', { status: 'ended' });
    expect(store.getState().visit?.status).toBe('connected');
    store.getState().locked('idle');
    expect(store.getState().visit?.visitId).toBe('v1');
    store.getState().signedOut();
    expect(store.getState().visit).toBeNull();
  });
});
