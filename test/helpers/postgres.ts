/**
 * The test cluster's PostgreSQL. The PostgreSQL variants are part of every run (`npm test` and
 * `npm run test:unit` start a throwaway cluster with scripts/postgres-session.sh): without one they
 * FAIL with this message, they never skip or fall back to PGlite, so a run cannot pass with half
 * of its storage tests quietly missing.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_MISSING =
  'EHR_TEST_DATABASE_URL is not set, so the PostgreSQL variants cannot run. Run the tests through npm test or ' +
  'npm run test:unit (scripts/postgres-session.sh starts a throwaway PostgreSQL), or set EHR_TEST_DATABASE_URL ' +
  'to a database you own (superuser: the tests create databases and roles).';

/** The cluster's superuser URL; throws (failing the test that needs it) when there is none. */
export function postgresUrl(): string {
  const url = process.env.EHR_TEST_DATABASE_URL;
  if (!url) throw new Error(POSTGRES_MISSING);
  return url;
}

/** A new database on the test cluster, so files and instances never share state by accident. */
export async function freshDatabase(): Promise<string> {
  const admin = postgresUrl();
  const name = `ehr_t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
