/**
 * One import rule for the architecture's layers (ARCHITECTURE.md "Dependency direction"): every
 * import is resolved to what it really is — a relative path to the layer folder it lands in, a
 * package name to its kind (Node builtin, Node-only package, Electron, React) — and checked against
 * what the importing file's layer may use. Path patterns missed `../electron` from core, dynamic
 * `import('electron')`, Node packages in src-shared and React in src-main/electron; resolving does not.
 *
 * Covers static imports, `export ... from`, dynamic `import('x')`, `require('x')` and
 * `import type` (a type import still ties the layers together).
 */
import { builtinModules } from 'node:module';
import path from 'node:path';

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
/** Packages that only run under Node (native addons, servers, drivers). */
export const NODE_ONLY_PACKAGES = new Set(['better-sqlite3-multiple-ciphers', 'keytar', 'fastify', 'pg', '@electric-sql/pglite', '@node-rs/argon2', 'electron-updater', 'playwright-core']);
const REACT_PACKAGES = new Set(['react', 'react-dom', 'zustand']);

/** Layer folders, most specific first. */
const LAYERS = [
  ['src-shared/node', 'shared-node'],
  ['src-shared', 'shared'],
  ['src-main/core', 'core'],
  ['src-main/electron', 'electron-main'],
  ['src-main/chromium-host', 'chromium-host'],
  ['src-renderer', 'renderer'],
  ['src-server', 'server'],
];

/** What each layer may import: other layers, and kinds of packages. */
const ALLOWED = {
  shared: { layers: ['shared'], builtins: false, nodeOnly: false, electron: false, react: false,
    why: 'src-shared is pure: no Node, Electron, React or other layers (Node-only shared code goes in src-shared/node)' },
  'shared-node': { layers: ['shared', 'shared-node'], builtins: true, nodeOnly: true, electron: false, react: false,
    why: 'src-shared/node is shared Node code for main and server: no Electron, React or other layers' },
  core: { layers: ['shared', 'shared-node', 'core'], builtins: true, nodeOnly: true, electron: false, react: false,
    why: 'src-main/core is plain Node: only src-main/electron may import electron; never the server or renderer' },
  'electron-main': { layers: ['shared', 'shared-node', 'core', 'electron-main'], builtins: true, nodeOnly: true, electron: true, react: false,
    why: 'the Electron shell uses core and shared code only, talks to the renderer only through the preload bridge, and renders no React' },
  'chromium-host': { layers: ['shared', 'shared-node', 'core', 'electron-main', 'chromium-host'], builtins: true, nodeOnly: true, electron: false, react: false,
    why: 'the development host is the Electron shell without Electron: core, shared code and the shell\'s pure modules (app://, CSP, enrollment), never electron itself or React' },
  renderer: { layers: ['shared', 'renderer'], builtins: false, nodeOnly: false, electron: false, react: true,
    why: 'the renderer talks to the main process only through window.ehr: no Node, Electron or main/server code' },
  server: { layers: ['shared', 'shared-node', 'server'], builtins: true, nodeOnly: true, electron: false, react: false,
    why: 'the server never imports client (main or renderer) code' },
};

const LAYER_NAMES = { shared: 'src-shared', 'shared-node': 'src-shared/node', core: 'src-main/core', 'electron-main': 'src-main/electron', 'chromium-host': 'src-main/chromium-host', renderer: 'src-renderer', server: 'src-server' };

/** The layer of a path relative to the project root (forward slashes), or null outside them. */
export function layerOf(rel) {
  for (const [dir, layer] of LAYERS) if (rel === dir || rel.startsWith(`${dir}/`)) return layer;
  return null;
}

/** 'react/jsx-runtime' -> 'react', '@scope/pkg/sub' -> '@scope/pkg', 'node:fs/promises' -> 'fs'. */
export function packageName(spec) {
  const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
  const parts = bare.split('/');
  return bare.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * What an import specifier resolves to, from a file at `fromRel` (relative to root):
 * { kind: 'layer', layer } | { kind: 'outside' } | { kind: 'builtin' | 'node-only' | 'electron' | 'react' | 'package', name }.
 */
export function classify(spec, fromRel) {
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = path.posix.normalize(spec.startsWith('/') ? spec.slice(1) : path.posix.join(path.posix.dirname(fromRel), spec));
    const layer = layerOf(target);
    return layer ? { kind: 'layer', layer } : { kind: 'outside', target };
  }
  const name = packageName(spec);
  if (spec.startsWith('node:') || BUILTINS.has(name)) return { kind: 'builtin', name };
  if (name === 'electron') return { kind: 'electron', name };
  if (REACT_PACKAGES.has(name)) return { kind: 'react', name };
  if (NODE_ONLY_PACKAGES.has(name)) return { kind: 'node-only', name };
  return { kind: 'package', name };
}

/** Why `spec` may not be imported from `fromRel`, or null when it may. */
export function violation(spec, fromRel) {
  const from = layerOf(fromRel);
  if (!from) return null;
  const rule = ALLOWED[from];
  const c = classify(spec, fromRel);
  switch (c.kind) {
    case 'layer': return rule.layers.includes(c.layer) ? null : `${LAYER_NAMES[c.layer]} code`;
    case 'outside': return c.target.startsWith('..') || /^(test|scripts)(\/|$)/.test(c.target) ? `a file outside the layers (${c.target})` : null;
    case 'builtin': return rule.builtins ? null : `the Node builtin "${c.name}"`;
    case 'node-only': return rule.nodeOnly ? null : `the Node-only package "${c.name}"`;
    case 'electron': return rule.electron ? null : 'electron';
    case 'react': return rule.react ? null : `React ("${c.name}")`;
    default: return null;
  }
}

/** @type {import('eslint').Rule.RuleModule} */
export const layerBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Each import, resolved to its layer or package kind, must be one the importing layer may use.' },
    schema: [],
    messages: { forbidden: '{{layer}} may not import {{what}}: {{why}}.' },
  },
  create(context) {
    const root = context.cwd;
    const fromRel = path.relative(root, context.filename).split(path.sep).join('/');
    const layer = layerOf(fromRel);
    if (!layer) return {};
    const check = (node, source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') {
        // A computed specifier cannot be checked: in a layer that is itself a way around the rule.
        if (source && source.type === 'TemplateLiteral' && source.expressions.length === 0) return check(node, { type: 'Literal', value: source.quasis[0].value.cooked });
        return;
      }
      const what = violation(source.value, fromRel);
      if (what) context.report({ node, messageId: 'forbidden', data: { layer: LAYER_NAMES[layer], what, why: ALLOWED[layer].why } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportEqualsDeclaration: (node) => node.moduleReference.type === 'TSExternalModuleReference' && check(node, node.moduleReference.expression),
      TSImportType: (node) => check(node, node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) check(node, node.arguments[0]);
      },
    };
  },
};

export default { rules: { 'layer-boundaries': layerBoundaries } };
