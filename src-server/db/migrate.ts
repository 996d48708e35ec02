/**
 * Applies MIGRATIONS once (recorded in schema_migrations) and sets up the restricted application
 * role: full DML on working tables, SELECT/INSERT only on audit tables. Two instances starting at
 * once on one PostgreSQL serialise on an advisory lock.
 */
import type { Db, Sql } from './db';
import { AUDIT_TABLES, MIGRATIONS } from './schema.sql';

export const DEFAULT_APP_ROLE = 'ehr_app';
const MIGRATION_LOCK = 7_340_001;

export function assertRoleName(role: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error('database role name must be a lowercase identifier');
  return role;
}

export async function migrate(db: Db, appRole: string): Promise<void> {
  assertRoleName(appRole);
  await db.tx(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await sql.query('CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await sql.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    for (const [i, text] of MIGRATIONS.entries()) {
      if (done.has(i + 1)) continue;
      await execScript(sql, db.kind, text);
      await sql.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
    }
    await grantAppRole(sql, db.kind, appRole);
  });
}

/** PGlite's query() takes one statement; pg takes a whole script. Statements here never contain ';' inside strings except the function body. */
async function execScript(sql: Sql, _kind: Db['kind'], text: string): Promise<void> {
  for (const stmt of splitStatements(text)) await sql.query(stmt);
}

export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const part of text.split(/(\$fn\$|;)/)) {
    if (part === '$fn$') inDollar = !inDollar;
    if (part === ';' && !inDollar) {
      if (current.trim()) out.push(current.trim());
      current = '';
    } else current += part;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

async function grantAppRole(sql: Sql, _kind: Db['kind'], role: string): Promise<void> {
  // Roles are cluster-wide: two databases (or instances) may race to create it.
  const exists = await sql.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.length === 0) {
    await sql.query(`DO $do$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $do$`);
  }
  const tables = (await sql.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.tablename);
  await sql.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  for (const table of tables) {
    const audit = (AUDIT_TABLES as readonly string[]).includes(table);
    await sql.query(`REVOKE ALL ON ${table} FROM ${role}`);
    const rights = table === 'schema_migrations' ? 'SELECT' : audit ? 'SELECT, INSERT' : 'SELECT, INSERT, UPDATE, DELETE';
    await sql.query(`GRANT ${rights} ON ${table} TO ${role}`);
  }
  await sql.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
}
