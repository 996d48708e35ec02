import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { createWorkstation } from '../../src-main/core/workstation';
import { createHarness, type Harness } from '../access/harness';

describe('workstation smoke', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => h?.close());

  it('logs in online, opens a chart, saves vitals in one write', async () => {
    const status = await h.ok('auth.login', { username: 'nina', password: 'correct horse battery staple' });
    expect(status.state).toBe('active');
    const chart = await h.ok('patients.open', { patientId: 'p-own' });
    expect(chart.records.length).toBe(2);
    const before = h.mark();
    const outboxBefore = h.ws.vault.outbox.count();
    const res = await h.ok('records.save', {
      patientId: 'p-own',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        valueQuantity: { value: 80, unit: '/min' },
      },
    });
    expect(res.version).toBe(0);
    expect(h.ws.vault.outbox.count()).toBe(outboxBefore + 1);
    const entries = h.since(before);
    expect(entries.map((e) => e.type)).toEqual(['create']);
    expect(entries[0]?.afterHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('workstation start-up failure', () => {
  it('a bad server URL fails with a typed error and releases the vault for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ehr-ws-fail-'));
    const keyStore = createMemoryKeyStore();
    try {
      await expect(createWorkstation({ dataDir: dir, keyStore, server: { url: 'http://plain.example', fingerprint: 'a'.repeat(64) } })).rejects.toMatchObject({ code: 'INVALID' });
      const ws = await createWorkstation({ dataDir: dir, keyStore });
      expect(ws.vault.closed).toBe(false);
      await ws.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
