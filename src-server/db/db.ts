/**
 * One small SQL interface over both engines: PGlite (embedded, in the data dir — the default) and
 * PostgreSQL (`pg` pool, production). Same SQL dialect, same migrations. Values that differ between
 * drivers (int8 -> string vs number) are cast in the SQL itself, so callers see one shape.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export type Row = Record<string, unknown>;

export interface Sql {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction (BEGIN/COMMIT, ROLLBACK on throw). */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openPglite(dir: string): Promise<Db> {
  const lite = await PGlite.create(dir);
  // PGlite is one connection: transactions must not interleave, so they queue here.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    kind: 'pglite',
    query: <T>(text: string, params?: readonly unknown[]) =>
      serial(async () => (await lite.query<T>(text, params ? [...params] : undefined)).rows),
    tx: <T>(fn: (sql: Sql) => Promise<T>) =>
      serial(() =>
        lite.transaction(async (t) =>
          fn({ query: async <R>(text: string, params?: readonly unknown[]) => (await t.query<R>(text, params ? [...params] : undefined)).rows }),
        ),
      ),
    close: () => serial(() => lite.close()),
  };
}

export interface PostgresOptions {
  url: string;
  /** Role every pooled connection switches to (SET ROLE) — the restricted application role. */
  role?: string | null;
  max?: number;
}

export function openPostgres({ url, role, max = 10 }: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // The startup packet sets the role, so no query ever runs with the owner's rights.
    ...(role ? { options: `-c role=${role}` } : {}),
  });
  // An idle client's network error must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    query: async <T>(text: string, params?: readonly unknown[]) => (await pool.query(text, params ? [...params] : undefined)).rows as T[],
    tx: async <T>(fn: (sql: Sql) => Promise<T>) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({ query: async <R>(text: string, params?: readonly unknown[]) => (await client.query(text, params ? [...params] : undefined)).rows as R[] });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
