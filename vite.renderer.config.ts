import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The production renderer build, loaded by Electron over app:// and by the e2e tests over loopback.
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: false, target: 'chrome120' },
});
