import { defineConfig } from 'vite';

// The patient's visit page (src-renderer/patient-visit): no React, no account. The sync server
// serves dist/patient-visit/index.html at GET /visit/<token> and every file of that folder at
// /visit-assets/<name>, under a CSP without inline script or style (so Vite must inline nothing).
export default defineConfig({
  root: 'src-renderer/patient-visit',
  base: '/visit-assets/',
  build: {
    outDir: '../../dist/patient-visit',
    assetsDir: '',
    emptyOutDir: true,
    sourcemap: false,
    target: 'chrome120',
    // No data: URLs for small assets: the page's CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
