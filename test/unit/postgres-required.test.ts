/**
 * The PostgreSQL variants cannot silently drop out of a run. This run must have the test cluster
 * (npm test / test:unit start one), and a run without it must FAIL on those tests — checked by
 * running the PostgreSQL tests of two real files in a child vitest with EHR_TEST_DATABASE_URL unset.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POSTGRES_MISSING } from '../helpers/postgres';
import { VARIANTS } from '../server/helpers';

const ROOT = join(import.meta.dirname, '..', '..');

describe('PostgreSQL is part of every run', () => {
  it('this run has the test cluster, and the server tests list both engines', () => {
    expect(process.env.EHR_TEST_DATABASE_URL, POSTGRES_MISSING).toMatch(/^postgres(ql)?:\/\//);
    expect(VARIANTS.map((v) => v.name)).toEqual(['pglite', 'postgres']);
  });

  it('without EHR_TEST_DATABASE_URL the PostgreSQL tests fail with the reason; none passes or is left out quietly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ehr-pg-required-'));
    try {
      const report = join(dir, 'report.json');
      const env = { ...process.env };
      delete env.EHR_TEST_DATABASE_URL;
      const run = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/server/storage.test.ts', 'test/sync/two-workstations.test.ts',
          '-t', 'PostgreSQL|postgres', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
        { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 },
      );
      const output = `${run.stdout}${run.stderr}`;
      expect(run.status, output.slice(-2000)).toBe(1);
      expect(output).toContain(POSTGRES_MISSING);
      const result = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; testResults: Array<{ name: string; status: string }> };
      expect(result.numPassedTests).toBe(0);
      expect(result.testResults.map((f) => [f.name.slice(ROOT.length + 1), f.status]).sort()).toEqual([
        ['test/server/storage.test.ts', 'failed'],
        ['test/sync/two-workstations.test.ts', 'failed'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
