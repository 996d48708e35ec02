#!/usr/bin/env node
// Bundles the Electron main process and the preload to CommonJS in dist/main/electron/ (esbuild).
//   node scripts/build-main.mjs            main.cjs + preload.cjs
//   node scripts/build-main.mjs --native   also builds better-sqlite3 for Electron's ABI into
//                                          native/electron-<abi>-<platform>-<arch>/ (needs network
//                                          for Electron's headers; never touches node_modules' Node build)
//   node scripts/build-main.mjs --outdir=<dir>   bundles there instead (the shell tests check the bundle)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const outdirArg = process.argv.slice(2).find((a) => a.startsWith('--outdir='));
const outdir = outdirArg ? path.resolve(outdirArg.slice('--outdir='.length)) : path.join(root, 'dist', 'main', 'electron');

// Native modules load their .node at run time and must stay outside the bundle (asarUnpack ships
// them); electron-updater is loaded lazily in installed builds only.
const MAIN_EXTERNAL = ['electron', 'better-sqlite3-multiple-ciphers', 'keytar', '@node-rs/argon2', 'electron-updater'];

// `ws` (the signalling socket) tries two optional native speed-ups inside try/catch and falls back
// to plain JavaScript without them; they are not installed, so the bundle gets a module that throws
// instead of a require() of a package that is not shipped.
const wsOptionalNative = {
  name: 'ws-optional-native',
  setup(b) {
    b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (a) => ({ path: a.path, namespace: 'ws-optional-native' }));
    b.onLoad({ filter: /.*/, namespace: 'ws-optional-native' }, () => ({ contents: "throw new Error('not bundled');", loader: 'js' }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  outExtension: { '.js': '.cjs' },
};

await build({
  ...common,
  entryPoints: { main: path.join(root, 'src-main/electron/main.ts') },
  outdir,
  external: MAIN_EXTERNAL,
  plugins: [wsOptionalNative],
  // Core modules written as ESM use import.meta.url (e.g. createRequire); in the CJS bundle it is
  // this file's URL.
  define: { 'import.meta.url': '__ehrImportMetaUrl' },
  banner: { js: "const __ehrImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The sandboxed preload may require only 'electron': everything else is bundled in.
await build({
  ...common,
  entryPoints: { preload: path.join(root, 'src-main/electron/preload.ts') },
  outdir,
  external: ['electron'],
});
console.log(`main + preload -> ${path.relative(root, outdir) || outdir}`);

if (args.has('--native')) {
  const tsx = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
  const r = spawnSync(tsx, [path.join(root, 'src-main/core/native/build-electron-binary.ts')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
