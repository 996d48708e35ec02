import { defineConfig } from 'vitest/config';

// Unit and integration tests run under Node. Processes (forks), not worker threads: the native
// modules (SQLCipher, keytar) and the crash tests' child processes behave as in production.
export default defineConfig({
  // The renderer's JSX runtime (its tsconfig and Vite build use the automatic one), so component
  // tests render .tsx without a global React.
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/e2e/**', 'test/bench/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Never let a test's console output be the place PHI leaks: tests assert on captured logs.
    silent: false,
  },
});
