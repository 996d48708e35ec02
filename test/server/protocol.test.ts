/** The wire protocol's schemas refuse what the server must never accept. */
import { describe, expect, it } from 'vitest';
import { AuditEntrySchema, EnvelopeSchema, IdSchema, LoginRequestSchema, PullQuerySchema, PushRequestSchema, ROUTES } from '../../src-shared/sync';

const env = { v: 1, recordId: 'r1', patientId: 'p1', resourceType: 'Observation', version: 1, keyId: 'k1', nonce: 'AAAAAAAAAAAAAAAA', ct: 'abc_-', tag: 'AAAAAAAAAAAAAAAAAAAAAA' };

describe('wire protocol schemas', () => {
  it('accepts a well-formed envelope and refuses extra keys, FHIR resources and non-base64url ciphertext', () => {
    expect(EnvelopeSchema.parse(env)).toEqual(env);
    expect(EnvelopeSchema.safeParse({ ...env, name: 'x' }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ resourceType: 'Patient', id: 'p1', name: [{ family: 'X' }] }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...env, ct: 'not base64url!' }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...env, nonce: 'short' }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...env, resourceType: 'Observation; DROP' }).success).toBe(false);
  });

  it('ids cannot carry spaces, quotes or SQL', () => {
    for (const bad of ["a'b", 'a b', 'x;--', '', 'a'.repeat(129), 'Zebediah Canarywhistle']) expect(IdSchema.safeParse(bad).success).toBe(false);
    expect(IdSchema.safeParse('demo-p-0001').success).toBe(true);
  });

  it('bounds batches and pages', () => {
    expect(PushRequestSchema.safeParse({ mutations: [] }).success).toBe(false);
    expect(PullQuerySchema.parse({})).toEqual({ limit: 200 });
    expect(PullQuerySchema.safeParse({ limit: '100000' }).success).toBe(false);
    expect(LoginRequestSchema.safeParse({ username: 'a', password: 'b', deviceId: 'd', extra: 1 }).success).toBe(false);
  });

  it('audit entries admit ids and codes only', () => {
    const entry = {
      deviceId: 'd1', seq: 1, prevHash: '0'.repeat(64), hash: 'a'.repeat(64), signature: 'A'.repeat(86), at: '2026-01-01T00:00:00.000Z',
      action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u1', role: 'nurse', patientId: 'p1', correlationId: 'corr-12345678',
    };
    expect(AuditEntrySchema.safeParse(entry).success).toBe(true);
    expect(AuditEntrySchema.safeParse({ ...entry, note: 'free text' }).success).toBe(false);
    expect(AuditEntrySchema.safeParse({ ...entry, reasonCode: 'patient fell down' }).success).toBe(false);
  });

  it('every PHI route is marked as needing the correlation header and a token', () => {
    for (const name of ['push', 'pull', 'wrapKey', 'unwrapKey', 'auditIngest', 'breakGlass', 'auditQuery'] as const) {
      expect(ROUTES[name].phi).toBe(true);
      expect(ROUTES[name].auth).toBe(true);
    }
  });
});
