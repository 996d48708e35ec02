/**
 * Opens the server's database: PGlite in <dataDir>/db by default, PostgreSQL when a URL is given.
 * Migrates as the connecting (owner) user, then hands back a handle that runs every query as the
 * restricted application role — so even a bug cannot UPDATE or DELETE an audit row.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openPglite, openPostgres, type Db } from './db';
import { DEFAULT_APP_ROLE, assertRoleName, migrate } from './migrate';
import { lockDirectory } from './dir-lock';

export interface OpenDatabaseOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  appRole?: string | undefined;
  poolSize?: number | undefined;
}

export async function openDatabase({ dataDir, databaseUrl, appRole = DEFAULT_APP_ROLE, poolSize }: OpenDatabaseOptions): Promise<Db> {
  assertRoleName(appRole);
  if (!databaseUrl) {
    const dir = join(dataDir, 'db');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const release = lockDirectory(dataDir);
    try {
      const db = await openPglite(dir);
      await migrate(db, appRole);
      // One connection for the process lifetime: drop to the application role for good.
      await db.query(`SET ROLE ${appRole}`);
      return { ...db, close: async () => { await db.close(); release(); } };
    } catch (e) {
      release();
      throw e;
    }
  }
  const owner = openPostgres({ url: databaseUrl, max: 1 });
  let canManageRoles: boolean;
  try {
    const rows = await owner.query<{ ok: boolean }>('SELECT (rolsuper OR rolcreaterole) AS ok FROM pg_roles WHERE rolname = current_user');
    canManageRoles = rows[0]?.ok === true;
    // A URL that already names the restricted role cannot migrate; its owner must have done so.
    if (canManageRoles) await migrate(owner, appRole);
  } finally {
    await owner.close();
  }
  return openPostgres({ url: databaseUrl, role: canManageRoles ? appRole : null, max: poolSize ?? 10 });
}
