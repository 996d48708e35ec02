// Lint, and the architecture's import boundaries (ARCHITECTURE.md "Dependency direction"),
// enforced here rather than in prose — the way VS Code and Signal Desktop do it.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlyPackages = ['better-sqlite3-multiple-ciphers', 'keytar', 'fastify', 'pg', '@electric-sql/pglite', '@node-rs/argon2'];

/** One boundary: files matching `files` may not import what `paths`/`patterns` name. */
function boundary(files, { paths = [], patterns = [] }, message) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        paths: paths.map((name) => ({ name, message })),
        patterns: patterns.map((p) => ({ group: [p], message })),
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', 'test-results/**', 'playwright-report/**', 'native/**', '.data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // src-shared: the contract. Pure TypeScript: no Node, no DOM, no Electron, no other layer.
  boundary(['src-shared/**/*.ts'], {
    paths: [...nodeBuiltins, ...nodeOnlyPackages, 'electron', 'react'],
    patterns: ['**/src-main/**', '**/src-server/**', '**/src-renderer/**', 'electron/*'],
  }, 'src-shared is pure: no Node, Electron, React or other layers (Node-only shared code goes in src-shared/node).'),
  // src-shared/node: shared by main and server, may use Node builtins, nothing else of ours.
  boundary(['src-shared/node/**/*.ts'], {
    paths: ['electron', 'react'],
    patterns: ['**/src-main/**', '**/src-server/**', '**/src-renderer/**'],
  }, 'src-shared/node is shared Node code for main and server: no Electron, React or other layers.'),
  // Main-process core: plain Node, testable without Electron.
  boundary(['src-main/core/**/*.ts'], {
    paths: ['electron', 'react'],
    patterns: ['**/src-main/electron/**', '**/src-server/**', '**/src-renderer/**', 'electron/*'],
  }, 'src-main/core is plain Node: only src-main/electron may import electron; never the server or renderer.'),
  boundary(['src-main/electron/**/*.ts'], {
    patterns: ['**/src-server/**', '**/src-renderer/**'],
  }, 'The Electron shell talks to the renderer only through the preload bridge.'),
  // Renderer: React + window.ehr only.
  boundary(['src-renderer/**/*.ts', 'src-renderer/**/*.tsx'], {
    paths: [...nodeBuiltins, ...nodeOnlyPackages, 'electron'],
    patterns: ['**/src-main/**', '**/src-server/**', '**/src-shared/node/**', 'electron/*'],
  }, 'The renderer talks to the main process only through window.ehr; no Node, Electron or main/server code.'),
  // Server: never imports client code.
  boundary(['src-server/**/*.ts'], {
    paths: ['electron', 'react'],
    patterns: ['**/src-main/**', '**/src-renderer/**', 'electron/*'],
  }, 'The server never imports client (main or renderer) code.'),
);
