import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { envelopeAad, open, openJson, seal, sealJson, type Envelope, type EnvelopeBinding } from '../../src-shared/node/envelope';
import { EhrError } from '../../src-shared/errors';

const CANARY = { resourceType: 'Patient', id: 'p-1', name: [{ family: 'Canarywhistle', given: ['Zebediah'] }], identifier: [{ value: 'CANARY-MRN-0042' }] };
const binding: EnvelopeBinding = { recordId: 'rec-1', patientId: 'pat-1', resourceType: 'Patient', version: 3, keyId: 'key-1' };

function expectIntegrity(fn: () => unknown): EhrError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EhrError);
    const err = e as EhrError;
    expect(err.code).toBe('INTEGRITY');
    const shown = JSON.stringify(err.toJSON()) + String(err.stack);
    expect(shown).not.toContain('Canarywhistle');
    expect(shown).not.toContain('CANARY-MRN-0042');
    return err;
  }
  throw new Error('expected INTEGRITY error');
}

/** Flip one bit of one byte of a base64url field, keeping it valid base64url of the same length. */
function flipByte(b64: string, index: number): string {
  const buf = Buffer.from(b64, 'base64url');
  const i = index % buf.length;
  buf[i] = (buf[i] ?? 0) ^ 0x01;
  return buf.toString('base64url');
}

describe('envelope', () => {
  const key = randomBytes(32);

  it('round-trips and hides the plaintext', () => {
    const env = sealJson(binding, CANARY, key);
    expect(env.v).toBe(1);
    expect(Buffer.from(env.nonce, 'base64url')).toHaveLength(12);
    expect(Buffer.from(env.tag, 'base64url')).toHaveLength(16);
    const wire = JSON.stringify(env);
    expect(wire).not.toContain('Canarywhistle');
    expect(wire).not.toContain('CANARY-MRN-0042');
    expect(Buffer.from(env.ct, 'base64url').toString('latin1')).not.toContain('Canarywhistle');
    expect(openJson(env, key)).toEqual(CANARY);
  });

  it('uses a fresh nonce for every seal of the same plaintext', () => {
    const nonces = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const env = seal(binding, Buffer.from('same'), key);
      nonces.add(env.nonce);
      cts.add(env.ct);
    }
    expect(nonces.size).toBe(5000);
    expect(cts.size).toBeGreaterThan(1);
  });

  it('fails on a flipped byte anywhere in nonce, ciphertext or tag (property)', () => {
    const env = sealJson(binding, CANARY, key);
    fc.assert(
      fc.property(fc.constantFrom<'nonce' | 'ct' | 'tag'>('nonce', 'ct', 'tag'), fc.nat(), (field, idx) => {
        const tampered: Envelope = { ...env, [field]: flipByte(env[field], idx) };
        expectIntegrity(() => open(tampered, key));
      }),
      { numRuns: 300 },
    );
  });

  it('fails when moved to another record, patient, resource type, version or key id', () => {
    const env = sealJson(binding, CANARY, key);
    const moves: Partial<EnvelopeBinding>[] = [
      { recordId: 'rec-2' }, { patientId: 'pat-2' }, { resourceType: 'Observation' }, { version: 4 }, { version: 2 }, { keyId: 'key-2' },
    ];
    for (const move of moves) {
      const err = expectIntegrity(() => open({ ...env, ...move }, key));
      expect(err.message).toMatch(/integrity/i);
    }
  });

  it('does not confuse bindings whose fields concatenate to the same string', () => {
    const a = seal({ ...binding, recordId: 'ab', patientId: 'c' }, Buffer.from('x'), key);
    expectIntegrity(() => open({ ...a, recordId: 'a', patientId: 'bc' }, key));
  });

  it('fails with the wrong key, a short key, truncated or malformed fields', () => {
    const env = sealJson(binding, CANARY, key);
    expectIntegrity(() => open(env, randomBytes(32)));
    expectIntegrity(() => open(env, randomBytes(16)));
    expectIntegrity(() => open({ ...env, tag: env.tag.slice(0, 10) }, key));
    expectIntegrity(() => open({ ...env, ct: env.ct.slice(0, -4) }, key));
    expectIntegrity(() => open({ ...env, ct: env.ct + '==' }, key));
    expectIntegrity(() => open({ ...env, nonce: '!!!!' }, key));
    expectIntegrity(() => open({ ...env, v: 2 } as unknown as Envelope, key));
    expectIntegrity(() => open(null as unknown as Envelope, key));
  });

  it('refuses to seal without a complete binding or with a wrong-length key', () => {
    expect(() => seal({ ...binding, recordId: '' }, Buffer.from('x'), key)).toThrow(EhrError);
    expect(() => seal({ ...binding, version: -1 }, Buffer.from('x'), key)).toThrow(EhrError);
    expect(() => seal(binding, Buffer.from('x'), randomBytes(31))).toThrow(EhrError);
  });

  it('round-trips arbitrary bytes and bindings (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.record({ recordId: fc.string({ minLength: 1 }), patientId: fc.string({ minLength: 1 }), resourceType: fc.string({ minLength: 1 }), version: fc.nat(), keyId: fc.string({ minLength: 1 }) }),
        (bytes, b) => {
          const env = seal(b, bytes, key);
          expect(new Uint8Array(open(env, key))).toEqual(bytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the AAD byte-identical to the canonical JSON array, for any binding (property)', () => {
    // Envelopes already stored were sealed with this AAD: a faster builder must not change one byte.
    fc.assert(
      fc.property(
        fc.record({ recordId: fc.string({ minLength: 1, unit: 'binary' }), patientId: fc.string({ minLength: 1 }), resourceType: fc.string({ minLength: 1 }), version: fc.nat(), keyId: fc.string({ minLength: 1, unit: 'binary' }) }),
        (b) => {
          expect(envelopeAad(b).equals(Buffer.from(JSON.stringify(['clinic-ehr/envelope/v1', b.recordId, b.patientId, b.resourceType, b.version, b.keyId]), 'utf8'))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
