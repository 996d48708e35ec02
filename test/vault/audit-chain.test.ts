/**
 * The audit hash chain: every kind of tampering the server must catch is reported as the first
 * problem, with its index and seq. Uses the real Ed25519 signing the vault uses.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, type AuditEntry, type AuditEntryInput } from '../../src-shared/audit';
import { hashEntry, linkEntry, signCheckpoint, verifyChain } from '../../src-shared/node/audit-chain';

const device = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function input(n: number, patientId: string | null = 'pat-1'): AuditEntryInput {
  return { action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'user-7', role: 'nurse', patientId, resourceRefs: [`Observation/obs-${n}`], correlationId: `corr-${n}` };
}

/** Every entry signed (a checkpoint each), as chains were before checkpoints. */
function chain(length: number, deviceId = 'dev-1', key = device.privateKey): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < length; i++) {
    const prev = out[out.length - 1];
    out.push(linkEntry(prev ? { seq: prev.seq, hash: prev.hash } : null, deviceId, input(i), key));
  }
  return out;
}

/** Hashes only, with a checkpoint signature on the entries at the given indexes (what the vault writes). */
function checkpointed(length: number, signedAt: readonly number[], key = device.privateKey): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < length; i++) {
    const prev = out[out.length - 1];
    out.push(linkEntry(prev ? { seq: prev.seq, hash: prev.hash } : null, 'dev-1', input(i), signedAt.includes(i) ? key : undefined));
  }
  return out;
}

/** An attacker without the device key edits entry i and re-hashes it and everything after it. */
function rewrittenFrom(entries: readonly AuditEntry[], i: number): AuditEntry[] {
  const out = entries.slice(0, i).map((e) => ({ ...e }));
  for (let j = i; j < entries.length; j++) {
    const prev = out[j - 1];
    const { hash: _h, ...body } = entries[j] as AuditEntry;
    const changed = { ...body, prevHash: prev ? prev.hash : GENESIS_HASH, ...(j === i ? { outcome: 'denied' as const } : {}) };
    out.push({ ...changed, hash: hashEntry(changed as AuditEntry) });
  }
  return out;
}

describe('canonicalJson', () => {
  it('is independent of key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(canonicalJson({ a: { c: null, d: [1, 'x'] }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } }));
  });
  it('refuses values JSON cannot express', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});

describe('linkEntry + verifyChain', () => {
  it('links from the genesis hash and verifies an intact chain', () => {
    const entries = chain(5);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[3]?.prevHash).toBe(entries[2]?.hash);
    expect(verifyChain(entries, device.publicKey)).toEqual({ ok: true, count: 5, lastSeq: 5, lastHash: entries[4]?.hash });
  });

  it('accepts the public key as PEM or raw base64url', () => {
    const entries = chain(2);
    const pem = device.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const raw = String(device.publicKey.export({ format: 'jwk' }).x);
    expect(verifyChain(entries, pem).ok).toBe(true);
    expect(verifyChain(entries, raw).ok).toBe(true);
  });

  it('continues from a previously accepted head (server ingest of a later batch)', () => {
    const entries = chain(6);
    const head = { seq: entries[2]!.seq, hash: entries[2]!.hash };
    expect(verifyChain(entries.slice(3), device.publicKey, { after: head }).ok).toBe(true);
    expect(verifyChain(entries.slice(4), device.publicKey, { after: head })).toMatchObject({ ok: false, problem: 'gap', seq: 5 });
  });

  it('detects an edit of any field (hash no longer matches)', () => {
    const entries = chain(4);
    const edited = entries.map((e) => ({ ...e }));
    edited[2] = { ...edited[2]!, patientId: 'pat-999' };
    expect(verifyChain(edited, device.publicKey)).toEqual({ ok: false, problem: 'edit', index: 2, seq: 3 });
  });

  it('detects a re-hashed edit (valid hash, but not signed by the device)', () => {
    const entries = chain(3).map((e) => ({ ...e }));
    const forged = { ...entries[2]!, outcome: 'denied' as const };
    forged.hash = hashEntry(forged);
    entries[2] = forged;
    expect(verifyChain(entries, device.publicKey)).toMatchObject({ ok: false, problem: 'signature', index: 2 });
  });

  it('detects a gap (an entry removed)', () => {
    const entries = chain(5);
    expect(verifyChain([...entries.slice(0, 2), ...entries.slice(3)], device.publicKey)).toEqual({ ok: false, problem: 'gap', index: 2, seq: 4 });
  });

  it('detects a reorder (two entries swapped) and a replay', () => {
    const entries = chain(4);
    expect(verifyChain([entries[0]!, entries[2]!, entries[1]!, entries[3]!], device.publicKey)).toMatchObject({ ok: false, problem: 'gap', index: 1 });
    expect(verifyChain([entries[0]!, entries[1]!, entries[1]!], device.publicKey)).toEqual({ ok: false, problem: 'reorder', index: 2, seq: 2 });
  });

  it('detects a fork (right seq, different history)', () => {
    const main = chain(3);
    const fork = linkEntry({ seq: 2, hash: 'f'.repeat(64) }, 'dev-1', input(99), device.privateKey);
    expect(verifyChain([main[0]!, main[1]!, fork], device.publicKey)).toEqual({ ok: false, problem: 'fork', index: 2, seq: 3 });
  });

  it('rejects a chain signed by another device key, and entries of another device', () => {
    expect(verifyChain(chain(2, 'dev-1', other.privateKey), device.publicKey)).toMatchObject({ ok: false, problem: 'signature', index: 0 });
    const mixed = chain(2);
    mixed[1] = { ...mixed[1]!, deviceId: 'dev-2' };
    expect(verifyChain(mixed, device.publicKey)).toMatchObject({ ok: false, problem: 'device', index: 1 });
  });

  it('property: any single-field change anywhere in a chain is caught at that entry', () => {
    const entries = chain(8);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.constantFrom('userId', 'role', 'correlationId', 'at', 'type'), fc.string({ minLength: 1 }), (i, field, value) => {
        const copy = entries.map((e) => ({ ...e }));
        const original = (copy[i] as unknown as Record<string, unknown>)[field];
        fc.pre(original !== value);
        (copy[i] as unknown as Record<string, unknown>)[field] = value;
        const verdict = verifyChain(copy, device.publicKey);
        return !verdict.ok && verdict.index === i;
      }),
      { numRuns: 100 },
    );
  });
});

describe('checkpoint signatures', () => {
  it('one signature at the end vouches for the whole run (what a pushed batch carries)', () => {
    const entries = checkpointed(50, [49]);
    expect(entries.filter((e) => e.signature !== undefined)).toHaveLength(1);
    expect(verifyChain(entries, device.publicKey)).toEqual({ ok: true, count: 50, lastSeq: 50, lastHash: entries[49]?.hash });
  });

  it('a run that does not end in a checkpoint is refused, unless the caller allows an unsigned tail', () => {
    const entries = checkpointed(10, [4]);
    expect(verifyChain(entries, device.publicKey)).toEqual({ ok: false, problem: 'unsigned', index: 9, seq: 10 });
    expect(verifyChain(entries, device.publicKey, { requireSignedEnd: false })).toMatchObject({ ok: true, count: 10 });
    expect(verifyChain([], device.publicKey)).toMatchObject({ ok: true, count: 0 });
    // Signing the last entry later (the vault does so before a push) makes the same run acceptable.
    const signed = [...entries.slice(0, 9), signCheckpoint(entries[9]!, device.privateKey)];
    expect(verifyChain(signed, device.publicKey).ok).toBe(true);
  });

  it('an edit re-hashed all the way to the checkpoint is caught by the checkpoint signature', () => {
    const entries = checkpointed(20, [19]);
    const forged = rewrittenFrom(entries, 7);
    forged[19] = { ...forged[19]!, signature: entries[19]!.signature }; // the old signature carried over
    expect(verifyChain(forged, device.publicKey)).toMatchObject({ ok: false, problem: 'signature', seq: 20 });
    const resignedByStranger = [...forged.slice(0, 19), signCheckpoint(forged[19]!, other.privateKey)];
    expect(verifyChain(resignedByStranger, device.publicKey)).toMatchObject({ ok: false, problem: 'signature', seq: 20 });
    // Without touching the checkpoint, the re-hashed run no longer hangs together.
    expect(verifyChain([...forged.slice(0, 19), entries[19]!], device.publicKey)).toMatchObject({ ok: false, problem: 'fork', seq: 20 });
  });

  it('a bad intermediate checkpoint is refused even when the end is signed correctly', () => {
    const entries = checkpointed(10, [3, 9]);
    entries[3] = { ...entries[3]!, signature: signCheckpoint(entries[3]!, other.privateKey).signature! };
    expect(verifyChain(entries, device.publicKey)).toMatchObject({ ok: false, problem: 'signature', index: 3, seq: 4 });
  });

  it('a run cut short of its checkpoint cannot be passed off as signed (truncation shows as unsigned)', () => {
    const entries = checkpointed(10, [9]);
    expect(verifyChain(entries.slice(0, 9), device.publicKey)).toMatchObject({ ok: false, problem: 'unsigned', seq: 9 });
  });
});
