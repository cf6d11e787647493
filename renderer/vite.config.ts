// The UI's build: `npm run build` writes renderer/dist, which the headless broker serves at /ui/ and the
// Electron shell loads from its own protocol. Relative asset URLs work under both.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The CSP allows no inline script: no module-preload polyfill injected into index.html.
    modulePreload: { polyfill: false },
    // Inlined assets would become data: URLs the CSP refuses for scripts and styles.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
