// Lint, and the architecture's import boundaries (ARCHITECTURE.md "Dependency direction"),
// enforced here rather than in prose — the way VS Code and Signal Desktop do it.
import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layer-boundaries.js';
import store from './eslint-rules/store-boundary.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', 'test-results/**', 'playwright-report/**', 'native/**', '.data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Every import in src-* resolved to its layer (or package kind) and checked against what the
  // importing layer may use: one rule, eslint-rules/layer-boundaries.js, tested in test/unit.
  {
    files: ['src-shared/**/*.{ts,tsx}', 'src-main/**/*.{ts,tsx}', 'src-renderer/**/*.{ts,tsx}', 'src-server/**/*.{ts,tsx}'],
    plugins: { layers },
    rules: { 'layers/layer-boundaries': 'error' },
  },
  // Server SQL runs in src-server/store only (docs/server.md, "The store layer"): no `.query()`
  // or database driver elsewhere, and routes import nothing but types from src-server/db.
  // eslint-rules/store-boundary.js, tested in test/unit.
  {
    files: ['src-server/**/*.ts'],
    plugins: { store },
    rules: { 'store/store-boundary': 'error' },
  },
);
