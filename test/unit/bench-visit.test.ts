/** The visit bench suite loads (its imports resolve) and its pure helpers do what its figures rely on. */
import { describe, expect, it } from 'vitest';
import run, { chunksFor, mbPerSecond, summariseStats } from '../bench/visit';

describe('bench visit helpers', () => {
  it('loads as a suite', () => {
    expect(typeof run).toBe('function');
  });

  it('counts decimal MB per second and whole chunks', () => {
    expect(mbPerSecond(50e6, 1000)).toBe(50);
    expect(mbPerSecond(1e6, 0)).toBeNaN();
    expect(chunksFor(64e6, 512 * 1024)).toBe(123);
    expect(chunksFor(512 * 1024, 512 * 1024)).toBe(1);
    expect(chunksFor(1, 512 * 1024)).toBe(1);
  });

  it('reads the connected transport, the decoded video frames and the selected pair', () => {
    const stats = [
      { id: 'T00', type: 'transport', dtlsState: 'new' },
      { id: 'T01', type: 'transport', dtlsState: 'connected', srtpCipher: 'AEAD_AES_256_GCM', dtlsCipher: 'TLS_AES_128_GCM_SHA256', tlsVersion: 'FEFC', selectedCandidatePairId: 'CP1' },
      { id: 'CP0', type: 'candidate-pair', localCandidateId: 'L0' },
      { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1' },
      { id: 'L0', type: 'local-candidate', candidateType: 'relay' },
      { id: 'L1', type: 'local-candidate', candidateType: 'host' },
      { id: 'IA', type: 'inbound-rtp', kind: 'audio', framesDecoded: 99 },
      { id: 'IV', type: 'inbound-rtp', kind: 'video', framesDecoded: 7 },
    ];
    expect(summariseStats(stats)).toEqual({
      dtlsState: 'connected', srtpCipher: 'AEAD_AES_256_GCM', dtlsCipher: 'TLS_AES_128_GCM_SHA256', tlsVersion: 'FEFC', framesDecoded: 7, candidateType: 'host',
    });
    expect(summariseStats([])).toEqual({ dtlsState: null, srtpCipher: null, dtlsCipher: null, tlsVersion: null, framesDecoded: 0, candidateType: null });
  });
});
