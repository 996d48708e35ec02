/**
 * The store boundary (eslint-rules/store-boundary.js) under ESLint's RuleTester: server SQL runs
 * in src-server/store and src-server/db only, and routes import nothing but types from the db.
 */
import { describe, expect, it } from 'vitest';
import { placeOf, storeBoundary } from '../../eslint-rules/store-boundary.js';
import { at, ruleTester } from '../helpers/rule-tester';

const tester = ruleTester();
const bad = (file: string, code: string, messageId: 'query' | 'driver' | 'routeDb') => ({ filename: at(file), code, errors: [{ messageId }] });
const ok = (file: string, code: string) => ({ filename: at(file), code });

describe('placeOf', () => {
  it('tells the SQL folders, routes and the rest of the server apart', () => {
    expect(placeOf('src-server/store/users.ts')).toBe('sql');
    expect(placeOf('src-server/db/migrate.ts')).toBe('sql');
    expect(placeOf('src-server/routes/auth.ts')).toBe('route');
    expect(placeOf('src-server/services/push.ts')).toBe('other');
    expect(placeOf('src-main/core/vault/index.ts')).toBeNull();
  });
});

tester.run('store-boundary', storeBoundary, {
  valid: [
    ok('src-server/store/users.ts', "export const byId = (sql, id) => sql.query('SELECT 1 FROM users WHERE id = $1', [id]);"),
    ok('src-server/db/db.ts', "import pg from 'pg'; import { PGlite } from '@electric-sql/pglite'; await pool.query('BEGIN');"),
    // A route runs store methods and transactions on the handle it is given, and may name its types.
    ok('src-server/routes/admin.ts', "import type { Sql } from '../db/db'; import * as users from '../store/users'; await ctx.db.tx((sql) => users.byId(sql, id));"),
    ok('src-server/routes/devices.ts', "import { type Db } from '../db/db';"),
    // Reading a parsed query string is not running SQL.
    ok('src-server/routes/sync.ts', 'const limit = input.query.limit; def.query.parse(req.query);'),
    ok('src-server/services/review-queue.ts', 'await auditTrail.search(ctx.db, q);'),
    // The store's named methods may be called from anywhere in the server, including the entry point.
    ok('src-server/index.ts', "import { openDatabase } from './db/open';"),
    // Outside the server the rule has nothing to say (tests inspect storage directly).
    ok('test/server/helpers.ts', "import pg from 'pg'; await server.db.query('SELECT 1');"),
  ],
  invalid: ([
    // SQL run anywhere in the server but the store, in a transaction or not, however the call is spelt.
    ['src-server/routes/auth.ts', "await ctx.db.query('SELECT id FROM users WHERE username = $1', [name]);", 'query'],
    ['src-server/routes/admin.ts', "await ctx.db.tx((sql) => sql.query('DELETE FROM care_team_members'));", 'query'],
    ['src-server/services/push.ts', 'await sql.query(`SELECT 1`);', 'query'],
    ['src-server/services/tokens.ts', "await sql?.query('SELECT 1');", 'query'],
    ['src-server/keys/sealed.ts', "await db['query']('SELECT wrapped FROM server_secrets');", 'query'],
    ['src-server/seed/demo.ts', "await sql.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', ['o', 'n']);", 'query'],
    // A driver opened beside the db layer.
    ['src-server/services/push.ts', "import pg from 'pg';", 'driver'],
    ['src-server/routes/sync.ts', "import { PGlite } from '@electric-sql/pglite';", 'driver'],
    ['src-server/services/access.ts', "const { Pool } = await import('pg');", 'driver'],
    // A route reaching for the database itself.
    ['src-server/routes/keys.ts', "import { openPglite } from '../db/db';", 'routeDb'],
    ['src-server/routes/keys.ts', "import { migrate } from '../db/migrate';", 'routeDb'],
    ['src-server/routes/keys.ts', "export { openDatabase } from '../db/open';", 'routeDb'],
  ] as const).map(([file, code, messageId]) => bad(file, code, messageId)),
});
