/**
 * SQL lives in src-server/store (docs/server.md, "The store layer"): everywhere else in the server
 * a query is a call of a named store method. This rule fails the build when server code outside
 * src-server/store and src-server/db
 * - calls `.query(...)` on anything (the Db/Sql handle's only way to run SQL),
 * - imports a database driver ('pg', '@electric-sql/pglite'),
 * and when a route (src-server/routes) imports src-server/db for more than its types: routes hand
 * the handle they were given to services and store methods, and open nothing themselves.
 */
import path from 'node:path';

const DRIVERS = new Set(['pg', '@electric-sql/pglite']);

/** Where a server file stands: 'sql' (store, db: may run SQL), 'route', 'other', or null outside src-server. */
export function placeOf(rel) {
  if (!rel.startsWith('src-server/')) return null;
  if (rel.startsWith('src-server/store/') || rel.startsWith('src-server/db/')) return 'sql';
  if (rel.startsWith('src-server/routes/')) return 'route';
  return 'other';
}

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Does the relative specifier, from fromRel, land in src-server/db? */
const isDbModule = (spec, fromRel) =>
  spec.startsWith('.') && path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec)).startsWith('src-server/db');

/** @type {import('eslint').Rule.RuleModule} */
export const storeBoundary = {
  meta: {
    type: 'problem',
    docs: { description: 'Server SQL runs only in src-server/store (and the database plumbing in src-server/db).' },
    schema: [],
    messages: {
      query: 'Run SQL through a store method (src-server/store), not `.query()` here.',
      driver: 'Only src-server/db opens the database: do not import "{{name}}" here.',
      routeDb: 'A route uses the handle it is given (ctx.db, a transaction): import only types from src-server/db.',
    },
  },
  create(context) {
    const fromRel = path.relative(context.cwd, context.filename).split(path.sep).join('/');
    const place = placeOf(fromRel);
    if (place === null || place === 'sql') return {};
    const checkImport = (node, source, typeOnly) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (DRIVERS.has(packageName(spec))) context.report({ node, messageId: 'driver', data: { name: packageName(spec) } });
      else if (place === 'route' && !typeOnly && isDbModule(spec, fromRel)) context.report({ node, messageId: 'routeDb' });
    };
    return {
      ImportDeclaration: (node) => {
        const typeOnly = node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
        checkImport(node, node.source, typeOnly);
      },
      ExportNamedDeclaration: (node) => node.source && checkImport(node, node.source, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => checkImport(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => checkImport(node, node.source, false),
      CallExpression: (node) => {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression') return;
        const name = callee.computed ? (callee.property.type === 'Literal' ? callee.property.value : null) : callee.property.name;
        if (name === 'query') context.report({ node, messageId: 'query' });
      },
    };
  },
};

export default { rules: { 'store-boundary': storeBoundary } };
