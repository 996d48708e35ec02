import { describe, expect, it } from 'vitest';
import { clearHeaderBytes, decodeMediaKey, FrameOpener, FrameSealer, importMediaKey, newCounters } from '../../src-renderer/visit/frame-crypto';

function b64u(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const KEY = b64u(new Uint8Array(32).map((_, i) => i));
const OTHER = b64u(new Uint8Array(32).map((_, i) => 255 - i));

/** A VP8 key frame starts with a byte whose lowest bit is 0; a delta frame's is 1. */
const keyFrame = new Uint8Array([0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
const deltaFrame = new Uint8Array([0x11, 1, 2, 3, 4, 5, 6, 7]);

describe('frame-level E2EE', () => {
  it('round-trips audio and video frames and leaves the codec header in clear', async () => {
    const key = await importMediaKey(KEY);
    const c = newCounters();
    const sealer = new FrameSealer(key, 'host', c);
    const opener = new FrameOpener(key, c);
    for (const [kind, frame, h] of [['video', keyFrame, 10], ['video', deltaFrame, 3], ['audio', new Uint8Array([0xfc, 9, 9, 9]), 1]] as const) {
      const sealed = await sealer.seal(kind, frame);
      expect(sealed.length).toBe(frame.length + 16 + 12);
      expect([...sealed.slice(0, h)]).toEqual([...frame.slice(0, h)]);
      expect([...sealed.slice(h, frame.length)]).not.toEqual([...frame.slice(h)]);
      expect([...(await opener.open(kind, sealed))!]).toEqual([...frame]);
    }
    expect(c).toEqual({ framesSealed: 3, framesOpened: 3, framesDropped: 0 });
  });

  it('drops and counts a tampered frame (payload, clear header or IV)', async () => {
    const key = await importMediaKey(KEY);
    const c = newCounters();
    const sealer = new FrameSealer(key, 'patient', c);
    const opener = new FrameOpener(key, c);
    const sealed = await sealer.seal('video', keyFrame);
    for (const at of [12, 4, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 0x01;
      expect(await opener.open('video', bad)).toBeNull();
    }
    expect(await opener.open('video', sealed.slice(0, 20))).toBeNull();
    expect(c.framesDropped).toBe(4);
    expect(c.framesOpened).toBe(0);
  });

  it('drops a frame sealed under another key', async () => {
    const c = newCounters();
    const sealed = await new FrameSealer(await importMediaKey(OTHER), 'host', c).seal('audio', new Uint8Array([1, 2, 3, 4]));
    expect(await new FrameOpener(await importMediaKey(KEY), c).open('audio', sealed)).toBeNull();
    expect(c.framesDropped).toBe(1);
  });

  it('never repeats an IV: direction byte, per-sealer salt, counter', async () => {
    const key = await importMediaKey(KEY);
    const c = newCounters();
    const seen = new Set<string>();
    const salt = new Uint8Array(7).fill(7);
    // Even with the same salt, the two directions cannot collide.
    for (const sealer of [new FrameSealer(key, 'host', c, salt), new FrameSealer(key, 'patient', c, salt), new FrameSealer(key, 'host', c)]) {
      for (let i = 0; i < 500; i++) seen.add(b64u(sealer.nextIv()));
    }
    expect(seen.size).toBe(1500);
    const iv = new FrameSealer(key, 'patient', c, salt).nextIv();
    expect(iv[0]).toBe(1);
    expect([...iv.slice(8)]).toEqual([0, 0, 0, 0]);
  });

  it('reads the clear header length from the frame itself and refuses a key that is not 32 bytes', () => {
    expect(clearHeaderBytes('video', 0x10)).toBe(10);
    expect(clearHeaderBytes('video', 0x11)).toBe(3);
    expect(clearHeaderBytes('audio', 0x11)).toBe(1);
    expect(() => decodeMediaKey('short')).toThrow();
    expect(decodeMediaKey(KEY).length).toBe(32);
  });
});
